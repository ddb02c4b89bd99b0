import { absDecimal, compareDecimals, precision, wholeDigits, type Decimal } from './decimal.js';
import { possiblyWithNull, typeNullable, type DdlSchema, type EnumValue, type TypeSpec } from './ddl-schema.js';
import { forStorage } from './mutate.js';

/**
 * The Parquet model of schema-ddl (`parquet/Type.scala`, `Field.scala`, `Suggestion.scala`) and its
 * migrations (`parquet/Migrations.scala`): what the Parquet-based loaders (BigQuery, Databricks, Snowflake
 * via Parquet, the Lake Loader) build from a schema, and which changes between versions they can merge.
 */
export type ParquetType =
  | { kind: 'String' | 'Boolean' | 'Integer' | 'Long' | 'Double' | 'Date' | 'Timestamp' | 'Json' }
  | { kind: 'Decimal'; precision: 9 | 18 | 38; scale: number }
  | { kind: 'Struct'; fields: ParquetField[] }
  | { kind: 'Array'; element: ParquetType; nullable: boolean };

export interface ParquetField {
  name: string;
  type: ParquetType;
  nullable: boolean;
  /** The JSON property names the column is read from (several after `normalizeField` collapses names). */
  accessors: ReadonlySet<string>;
}

const INT_MAX: Decimal = { unscaled: 2147483647n, scale: 0 };
const INT_MIN: Decimal = { unscaled: -2147483648n, scale: 0 };
const LONG_MAX: Decimal = { unscaled: 9223372036854775807n, scale: 0 };
const LONG_MIN: Decimal = { unscaled: -9223372036854775808n, scale: 0 };
const scalar = (kind: 'String' | 'Boolean' | 'Integer' | 'Long' | 'Double' | 'Date' | 'Timestamp' | 'Json'): ParquetType => ({ kind });

export function field(name: string, type: ParquetType, nullable: boolean, accessors: Iterable<string> = [name]): ParquetField {
  return { name, type, nullable, accessors: new Set(accessors) };
}

/** A type built from a (sub)schema, and whether its JSON `type` allows `null` explicitly. */
interface NullableType {
  type: ParquetType;
  explicitlyNullable: boolean;
}

/** schema-ddl's `Field.build`: `null` when the schema makes no column (an object with no properties that allows none). */
export function buildField(name: string, schema: DdlSchema, enforceValuePresence: boolean): ParquetField | null {
  const built = buildType(forStorage(schema));
  return built === null ? null : field(name, built.type, isNullable(built.explicitlyNullable, enforceValuePresence));
}

function isNullable(explicitlyNullable: boolean, enforcePresence: boolean): boolean {
  return explicitlyNullable || !enforcePresence;
}

function buildType(schema: DdlSchema): NullableType | null {
  const type = schema.type;
  if (possiblyWithNull(type, 'object')) {
    const object = buildObjectType(schema);
    return object === null ? null : { type: object, explicitlyNullable: typeNullable(type!) };
  }
  if (possiblyWithNull(type, 'array')) {
    const array = buildArrayType(schema);
    return array === null ? null : { type: array, explicitlyNullable: typeNullable(type!) };
  }
  return suggest(schema) ?? { type: scalar('Json'), explicitlyNullable: type === undefined ? true : typeNullable(type) };
}

function buildObjectType(schema: DdlSchema): ParquetType | null {
  const required = schema.required ?? [];
  const fields: ParquetField[] = [];
  for (const [key, sub] of schema.properties ?? []) {
    const built = buildType(sub);
    if (built !== null) fields.push(field(key, built.type, isNullable(built.explicitlyNullable, required.includes(key))));
  }
  fields.sort((a, b) => compareNames(a.name, b.name));
  if (fields.length > 0) return { kind: 'Struct', fields };
  return schema.additionalProperties === false ? null : scalar('Json');
}

function buildArrayType(schema: DdlSchema): ParquetType | null {
  if (schema.items === undefined || !('list' in schema.items)) return { kind: 'Array', element: scalar('Json'), nullable: true };
  const element = buildType(schema.items.list);
  return element === null ? null : { kind: 'Array', element: element.type, nullable: isNullable(element.explicitlyNullable, true) };
}

// Suggestion.scala: the first suggestion that applies wins, in this order.
function suggest(schema: DdlSchema): NullableType | null {
  const type = schema.type;
  const withNull = (t: ParquetType, on: TypeSpec): NullableType => ({ type: t, explicitlyNullable: typeNullable(on) });
  if (type !== undefined && possiblyWithNull(type, 'string') && (schema.format === 'date' || schema.format === 'date-time')) {
    return withNull(scalar(schema.format === 'date' ? 'Date' : 'Timestamp'), type);
  }
  if (type !== undefined && possiblyWithNull(type, 'boolean')) return withNull(scalar('Boolean'), type);
  if (type !== undefined && possiblyWithNull(type, 'string')) return withNull(scalar('String'), type);
  if (type !== undefined && possiblyWithNull(type, 'integer')) return withNull(integerType(schema), type);
  if (type !== undefined && onlyNumeric(type)) {
    const multipleOf = schema.multipleOf;
    if (multipleOf === undefined) return withNull(scalar('Double'), type);
    return withNull(multipleOf.integer ? integerType(schema) : numericWithMultiple(multipleOf.value, schema), type);
  }
  if (schema.enum !== undefined) return numericEnum(schema.enum) ?? stringEnum(schema.enum) ?? { type: scalar('Json'), explicitlyNullable: schema.enum.some((e) => e.json === null) };
  return null;
}

function onlyNumeric(type: TypeSpec): boolean {
  const rest = [...type.types].filter((t) => t !== 'null');
  if (!type.union) return rest.length === 1 && (rest[0] === 'number' || rest[0] === 'integer');
  return rest.length > 0 && rest.every((t) => t === 'number' || t === 'integer');
}

function decimalPrecision(digits: number): 9 | 18 | 38 | null {
  return digits <= 9 ? 9 : digits <= 18 ? 18 : digits <= 38 ? 38 : null;
}

function integerType(schema: DdlSchema): ParquetType {
  if (schema.minimum === undefined || schema.maximum === undefined) return scalar('Long');
  const [min, max] = [schema.minimum.value, schema.maximum.value];
  if (compareDecimals(max, INT_MAX) <= 0 && compareDecimals(min, INT_MIN) >= 0) return scalar('Integer');
  if (compareDecimals(max, LONG_MAX) <= 0 && compareDecimals(min, LONG_MIN) >= 0) return scalar('Long');
  const digits = decimalPrecision(Math.max(precision(max) - max.scale, precision(min) - min.scale));
  return digits === null ? scalar('Double') : { kind: 'Decimal', precision: digits, scale: 0 };
}

function numericWithMultiple(multiple: Decimal, schema: DdlSchema): ParquetType {
  if (schema.minimum === undefined || schema.maximum === undefined) return scalar('Double');
  const digitsOf = (bound: { integer: boolean; value: Decimal }) =>
    bound.integer ? wholeDigits(bound.value) + multiple.scale : precision(bound.value) - bound.value.scale + multiple.scale;
  const digits = decimalPrecision(Math.max(digitsOf(schema.maximum), digitsOf(schema.minimum)));
  return digits === null ? scalar('Double') : { kind: 'Decimal', precision: digits, scale: multiple.scale };
}

function numericEnum(values: EnumValue[]): NullableType | null {
  let scale = 0;
  let max: Decimal = { unscaled: 0n, scale: 0 };
  let explicitlyNullable = false;
  for (const value of values) {
    if (value.json === null) {
      explicitlyNullable = true;
      continue;
    }
    if (value.number === undefined) return null;
    scale = Math.max(scale, value.number.scale);
    if (compareDecimals(absDecimal(value.number), max) > 0) max = absDecimal(value.number);
  }
  if (scale === 0 && compareDecimals(max, INT_MAX) <= 0) return { type: scalar('Integer'), explicitlyNullable };
  if (scale === 0 && compareDecimals(max, LONG_MAX) <= 0) return { type: scalar('Long'), explicitlyNullable };
  const digits = decimalPrecision(precision(max) - max.scale + scale);
  return { type: digits === null ? scalar('Double') : { kind: 'Decimal', precision: digits, scale }, explicitlyNullable };
}

function stringEnum(values: EnumValue[]): NullableType | null {
  if (!values.every((v) => v.json === null || typeof v.json === 'string')) return null;
  return { type: scalar('String'), explicitlyNullable: values.some((v) => v.json === null) };
}

// Field.normalize: column names as the loaders write them.

/** schema-ddl's `StringUtils.snakeCase`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

/** A property name as a Parquet column name: snake_case, `[^A-Za-z0-9_]` → `_`, a leading digit prefixed with `_`. */
export function normalizeName(name: string): string {
  const normalized = snakeCase(name).replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(normalized) ? `_${normalized}` : normalized;
}

export function normalizeField(f: ParquetField): ParquetField {
  return { ...f, name: normalizeName(f.name), type: normalizeType(f.type) };
}

function normalizeType(t: ParquetType): ParquetType {
  if (t.kind === 'Struct') return { kind: 'Struct', fields: collapseDuplicates(t.fields.map(normalizeField)).sort((a, b) => compareNames(a.name, b.name)) };
  if (t.kind === 'Array') return { ...t, element: normalizeType(t.element) };
  return t;
}

/** Fields whose names collide after normalizing become one: the one with the smallest accessor, with every accessor. */
function collapseDuplicates(fields: ParquetField[]): ParquetField[] {
  const groups = new Map<string, ParquetField[]>();
  for (const f of fields) groups.set(f.name, [...(groups.get(f.name) ?? []), f]);
  return [...groups.values()].map((group) => {
    const smallest = (f: ParquetField) => [...f.accessors].sort(compareNames)[0]!;
    const lowest = group.reduce((a, b) => (compareNames(smallest(b), smallest(a)) < 0 ? b : a));
    return { ...lowest, accessors: new Set(group.flatMap((f) => [...f.accessors])) };
  });
}

/** Java's `String.compareTo` (UTF-16 code units), which Scala's `sortBy(_.name)` uses. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A type as schema-ddl prints it in its messages (`String`, `Long`, `Decimal(Digits18,2)`, `Array(String,Required)`). */
export function showType(t: ParquetType): string {
  switch (t.kind) {
    case 'Decimal':
      return `Decimal(Digits${t.precision},${t.scale})`;
    case 'Array':
      return `Array(${showType(t.element)},${t.nullable ? 'Nullable' : 'Required'})`;
    case 'Struct':
      return `Struct(${t.fields.map((f) => `${f.name}: ${showType(f.type)}`).join(', ')})`;
    default:
      return t.kind;
  }
}

export function typesEqual(a: ParquetType, b: ParquetType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'Decimal' && b.kind === 'Decimal') return a.precision === b.precision && a.scale === b.scale;
  if (a.kind === 'Array' && b.kind === 'Array') return a.nullable === b.nullable && typesEqual(a.element, b.element);
  if (a.kind === 'Struct' && b.kind === 'Struct') return a.fields.length === b.fields.length && a.fields.every((f, i) => fieldsEqual(f, b.fields[i]!));
  return true;
}

export function fieldsEqual(a: ParquetField, b: ParquetField): boolean {
  return (
    a.name === b.name &&
    a.nullable === b.nullable &&
    a.accessors.size === b.accessors.size &&
    [...a.accessors].every((x) => b.accessors.has(x)) &&
    typesEqual(a.type, b.type)
  );
}
