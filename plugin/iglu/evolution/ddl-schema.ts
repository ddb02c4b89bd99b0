import { numberTextAt } from '../exact-json.js';
import { pointerSegment } from '../json.js';
import { isWhole, parseDecimal, toBigInt, type Decimal } from './decimal.js';

/**
 * A JSON Schema as schema-ddl reads it (`jsonschema/Schema.scala` and its circe decoders): only the
 * keywords the warehouse models use, each decoded the way schema-ddl decodes it. The evolution rules work
 * on this, never on the raw JSON.
 */
export type JsonType = 'null' | 'boolean' | 'string' | 'integer' | 'number' | 'array' | 'object';

/** `type`: one type, or a union (`["string","null"]`; schema-ddl keeps a one-element union from `["a","a"]` as a union). */
export interface TypeSpec {
  types: ReadonlySet<JsonType>;
  union: boolean;
}

/** `multipleOf`, `minimum`, `maximum`: schema-ddl's `Integer…` variant when the number is whole, else `Number…`. */
export interface NumberKeyword {
  integer: boolean;
  value: Decimal;
}

/** An `enum` value, with the exact text of a number. */
export interface EnumValue {
  json: unknown;
  number?: Decimal;
  /** The value printed as circe prints it (`noSpaces`), numbers as written. */
  text: string;
}

export interface DdlSchema {
  multipleOf?: NumberKeyword;
  minimum?: NumberKeyword;
  maximum?: NumberKeyword;
  maxLength?: bigint;
  minLength?: bigint;
  pattern?: string;
  format?: string;
  $schema?: string;
  items?: { list: DdlSchema } | { tuple: DdlSchema[] };
  additionalItems?: boolean | DdlSchema;
  minItems?: bigint;
  maxItems?: bigint;
  properties?: Map<string, DdlSchema>;
  additionalProperties?: boolean | DdlSchema;
  required?: string[];
  patternProperties?: Map<string, DdlSchema>;
  type?: TypeSpec;
  enum?: EnumValue[];
  oneOf?: DdlSchema[];
  anyOf?: DdlSchema[];
  description?: string;
}

/** Why schema-ddl cannot read a JSON value as a schema (its decoder fails, so igluctl and the loaders refuse it). */
export class SchemaDecodingError extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(`${pointer === '' ? 'the schema' : pointer}: ${message}`);
  }
}

const TYPES = new Set<JsonType>(['null', 'boolean', 'string', 'integer', 'number', 'array', 'object']);

/** Reads a parsed JSON value (from `parseJsonExact`, so numbers keep their text) as schema-ddl's `Schema`. Throws `SchemaDecodingError`. */
export function decodeSchema(json: unknown, pointer = ''): DdlSchema {
  if (!isObject(json)) throw new SchemaDecodingError(pointer, 'a schema must be a JSON object');
  const s: DdlSchema = {};
  const at = (key: string) => `${pointer}/${key}`;
  const field = <T>(key: string, decode: (value: unknown) => T | undefined): T | undefined => {
    const value = json[key];
    if (value === undefined || value === null) return undefined; // circe: a null Option field is None
    const decoded = decode(value);
    if (decoded === undefined) throw new SchemaDecodingError(at(key), `cannot be read as "${key}"`);
    return decoded;
  };
  const number = (key: string, strings: boolean) => field(key, (v) => numberKeyword(json, key, v, strings));
  s.multipleOf = number('multipleOf', true);
  s.minimum = number('minimum', false);
  s.maximum = number('maximum', false);
  s.maxLength = field('maxLength', (v) => wholeNumber(json, 'maxLength', v, true));
  s.minLength = field('minLength', (v) => wholeNumber(json, 'minLength', v, true));
  s.pattern = field('pattern', (v) => (typeof v === 'string' ? v : undefined));
  s.format = field('format', (v) => (typeof v === 'string' ? v : undefined));
  s.$schema = field('$schema', (v) => (typeof v === 'string' ? v : undefined));
  s.items = field('items', (v) => (Array.isArray(v) ? { tuple: v.map((item, i) => decodeSchema(item, `${at('items')}/${i}`)) } : { list: decodeSchema(v, at('items')) }));
  s.additionalItems = field('additionalItems', (v) => (typeof v === 'boolean' ? v : decodeSchema(v, at('additionalItems'))));
  s.minItems = field('minItems', (v) => wholeNumber(json, 'minItems', v, false));
  s.maxItems = field('maxItems', (v) => wholeNumber(json, 'maxItems', v, false));
  s.properties = field('properties', (v) => schemaMap(v, at('properties')));
  s.additionalProperties = field('additionalProperties', (v) => (typeof v === 'boolean' ? v : decodeSchema(v, at('additionalProperties'))));
  s.required = field('required', (v) => (Array.isArray(v) && v.every((k) => typeof k === 'string') ? (v as string[]) : undefined));
  s.patternProperties = field('patternProperties', (v) => schemaMap(v, at('patternProperties')));
  s.type = field('type', typeSpec);
  s.enum = field('enum', (v) => (Array.isArray(v) ? v.map((value, i) => enumValue(v, i, value)) : undefined));
  s.oneOf = field('oneOf', (v) => (Array.isArray(v) ? v.map((sub, i) => decodeSchema(sub, `${at('oneOf')}/${i}`)) : undefined));
  s.anyOf = field('anyOf', (v) => (Array.isArray(v) ? v.map((sub, i) => decodeSchema(sub, `${at('anyOf')}/${i}`)) : undefined));
  s.description = field('description', (v) => (typeof v === 'string' ? v : undefined));
  for (const key of Object.keys(s) as Array<keyof DdlSchema>) if (s[key] === undefined) delete s[key];
  return s;
}

function schemaMap(value: unknown, pointer: string): Map<string, DdlSchema> | undefined {
  if (!isObject(value)) return undefined;
  return new Map(Object.entries(value).map(([key, sub]) => [key, decodeSchema(sub, `${pointer}/${pointerSegment(key)}`)]));
}

function typeSpec(value: unknown): TypeSpec | undefined {
  if (typeof value === 'string') return TYPES.has(value as JsonType) ? { types: new Set([value as JsonType]), union: false } : undefined;
  if (!Array.isArray(value) || !value.every((t) => typeof t === 'string' && TYPES.has(t as JsonType))) return undefined;
  // schema-ddl's Type.fromProduct: a one-element list is that type; an empty list or more is a union.
  return value.length === 1 ? { types: new Set(value as JsonType[]), union: false } : { types: new Set(value as JsonType[]), union: true };
}

/** The exact decimal of a JSON number at `container[key]`, or of a numeric string when circe's decoder takes strings. */
function decimalAt(container: object, key: string | number, value: unknown, strings: boolean): Decimal | null {
  if (typeof value === 'number') return parseDecimal(numberTextAt(container, key) ?? String(value));
  if (strings && typeof value === 'string') return parseDecimal(value.trim());
  return null;
}

function numberKeyword(container: object, key: string, value: unknown, strings: boolean): NumberKeyword | undefined {
  const d = decimalAt(container, key, value, strings);
  return d === null ? undefined : { integer: isWhole(d), value: d };
}

function wholeNumber(container: object, key: string, value: unknown, strings: boolean): bigint | undefined {
  const d = decimalAt(container, key, value, strings);
  return d !== null && isWhole(d) ? toBigInt(d) : undefined;
}

function enumValue(array: unknown[], index: number, json: unknown): EnumValue {
  if (typeof json === 'number') {
    const text = numberTextAt(array, index) ?? String(json);
    return { json, number: parseDecimal(text) ?? undefined, text };
  }
  return { json, text: JSON.stringify(json) };
}

// Helpers on types and schemas: schema-ddl's `jsonschema/package.scala` (TypeMatcher, SchemaOps).

/** `precisely(t) || nullable(t)`: the type is `t`, or exactly the union `[t, null]`. */
export function possiblyWithNull(type: TypeSpec | undefined, t: JsonType): boolean {
  if (type === undefined) return false;
  if (!type.union) return type.types.has(t);
  return type.types.size === 2 && type.types.has(t) && type.types.has('null');
}

/** The type allows `null`. */
export function typeNullable(type: TypeSpec): boolean {
  return type.types.has('null');
}

/** At least two non-null types, `[integer, number]` excepted. */
export function isUnionType(type: TypeSpec): boolean {
  if (!type.union) return false;
  const rest = [...type.types].filter((t) => t !== 'null');
  if (rest.length === 2 && rest.includes('integer') && rest.includes('number')) return false;
  return rest.length > 1;
}

/** The type is, or its union holds, `t`. */
export function withType(schema: DdlSchema, t: JsonType): boolean {
  return schema.type?.types.has(t) ?? false;
}

/** `null` is allowed by an enum value or by the type. */
export function canBeNull(schema: DdlSchema): boolean {
  return (schema.enum?.some((e) => e.json === null) ?? false) || withType(schema, 'null');
}

/** A type from a set: one type alone, a union otherwise (schema-ddl's Narrowed/Widened). */
export function typeOfSet(types: Iterable<JsonType>): TypeSpec {
  const set = new Set(types);
  return { types: set, union: set.size !== 1 };
}

/** The canonical text of a JSON value, for equality (object keys sorted, numbers by value). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
