import { pointerSegment } from '../json.js';
import { isWhole, toBigInt } from './decimal.js';
import { canBeNull, isUnionType, possiblyWithNull, typeOfSet, withType, type DdlSchema } from './ddl-schema.js';
import { compareNames, snakeCase } from './parquet.js';

/**
 * The Redshift model of schema-ddl (`redshift/ShredModel.scala`, `ShredModelEntry.scala`,
 * `internal/FlatSchema.scala`, `internal/ColumnTypeSuggestions.scala`): a schema flattened into one column
 * per leaf property, named `a_field.b_field`, each with a Redshift type and a nullability.
 */
export type ColumnType =
  | { kind: 'RedshiftTimestamp' | 'RedshiftDate' | 'RedshiftSmallInt' | 'RedshiftInteger' | 'RedshiftBigInt' | 'RedshiftDouble' | 'RedshiftBoolean' }
  | { kind: 'RedshiftDecimal'; precision: number | null; scale: number | null }
  | { kind: 'RedshiftVarchar' | 'RedshiftChar'; size: number };

export interface Column {
  name: string;
  /** JSON Pointer into the schema (`/properties/a/properties/b`). */
  pointer: string;
  type: ColumnType;
  nullable: boolean;
}

const VARCHAR_SIZE = 4096;
const DEFAULT_ARRAY_SIZE = 65535;

/** A pointer step: a property name under `properties`, or a keyword/index (never a column name part). */
type Step = { field: string } | { keyword: string } | { index: number };

interface Leaf {
  steps: Step[];
  schema: DdlSchema;
}

const pointerOf = (steps: Step[]) => steps.map((s) => `/${'field' in s ? pointerSegment(s.field) : 'keyword' in s ? s.keyword : s.index}`).join('');
const keyOf = (steps: Step[]) => JSON.stringify(steps);
const IGNORED = new Set(['items', 'patternProperties', 'oneOf', 'additionalProperties']);

/** schema-ddl's `ShredModel.good(...).entries`: the columns of one schema, nullable ones last, then by name. */
export function redshiftColumns(schema: DdlSchema): Column[] {
  const leaves = new Map<string, Leaf>();
  const required = new Set<string>();
  visit(schema, [], leaves, required);
  const entries = [...leaves.values()].map((leaf) => ({ leaf, name: columnName(leaf.steps), nullable: canBeNull(leaf.schema) }));
  entries.sort((a, b) => Number(a.nullable) - Number(b.nullable) || compareNames(a.name, b.name));
  const only = entries[0];
  if (entries.length === 1 && only!.leaf.steps.length === 0 && (only!.leaf.schema.properties?.size ?? 0) === 0) return [];
  return entries.map(({ leaf, name, nullable }) => ({ name, pointer: pointerOf(leaf.steps), type: columnType(leaf.schema), nullable }));
}

/** `Schema.traverse` with `FlatSchema.save`: every subschema, parents first. */
function visit(schema: DdlSchema, steps: Step[], leaves: Map<string, Leaf>, required: Set<string>): void {
  save(schema, steps, leaves, required);
  const down = (sub: DdlSchema, ...more: Step[]) => visit(sub, [...steps, ...more], leaves, required);
  if (schema.items !== undefined && 'list' in schema.items) down(schema.items.list, { keyword: 'items' });
  else if (schema.items !== undefined) schema.items.tuple.forEach((s, i) => down(s, { keyword: 'items' }, { index: i }));
  if (schema.additionalItems !== undefined && typeof schema.additionalItems !== 'boolean') down(schema.additionalItems, { keyword: 'additionalItems' });
  for (const [key, sub] of schema.properties ?? []) down(sub, { keyword: 'properties' }, { field: key });
  if (schema.additionalProperties !== undefined && typeof schema.additionalProperties !== 'boolean') down(schema.additionalProperties, { keyword: 'additionalProperties' });
  for (const [key, sub] of schema.patternProperties ?? []) down(sub, { keyword: 'patternProperties' }, { field: key });
  (schema.oneOf ?? []).forEach((s, i) => down(s, { keyword: 'oneOf' }, { index: i }));
}

function save(schema: DdlSchema, steps: Step[], leaves: Map<string, Leaf>, required: Set<string>): void {
  const ignored = steps.some((s) => 'keyword' in s && IGNORED.has(s.keyword)) || insideUnionLeaf(steps, leaves);
  if (ignored) return;
  // withRequired: this schema's required keys, when every parent up to the root is required too.
  for (const key of schema.required ?? []) {
    const child = [...steps, { keyword: 'properties' }, { field: key }];
    if (nestedRequired(child, required)) required.add(keyOf(child));
  }
  if (!isLeaf(schema)) return;
  const optional = steps.length > 0 && !required.has(keyOf(steps));
  const leafSchema = optional || canBeNull(schema) ? { ...schema, type: schema.type === undefined ? typeOfSet(['null']) : withNullType(schema) } : schema;
  leaves.set(keyOf(steps), { steps, schema: leafSchema });
}

function withNullType(schema: DdlSchema): NonNullable<DdlSchema['type']> {
  const type = schema.type!;
  if (type.union) return { types: new Set([...type.types, 'null']), union: true };
  if (type.types.has('null')) return type;
  return { types: new Set([...type.types, 'null']), union: true };
}

/** A leaf already saved above this pointer (or at it) has a union type: its subschemas make no columns. */
function insideUnionLeaf(steps: Step[], leaves: Map<string, Leaf>): boolean {
  for (let length = 0; length <= steps.length; length++) {
    const leaf = leaves.get(keyOf(steps.slice(0, length)));
    if (leaf?.schema.type !== undefined && isUnionType(leaf.schema.type)) return true;
  }
  return false;
}

function nestedRequired(steps: Step[], required: Set<string>): boolean {
  const grandparent = steps.slice(0, -2);
  if (steps.length < 2 || grandparent.length === 0) return true;
  return required.has(keyOf(grandparent)) && nestedRequired(grandparent, required);
}

function isLeaf(schema: DdlSchema): boolean {
  const nested = withType(schema, 'object') && schema.properties !== undefined;
  return isHeterogeneousUnion(schema) || !nested;
}

function isHeterogeneousUnion(schema: DdlSchema): boolean {
  const alternatives = (schema.oneOf ?? []).flatMap((s) => (s.type === undefined ? [] : [...s.type.types])).filter((t) => t !== 'null');
  return new Set(alternatives).size > 1 || schema.type === undefined || isUnionType(schema.type);
}

/** `SchemaPointer.getName`: the property names on the way, snake_cased, joined with dots. */
function columnName(steps: Step[]): string {
  return steps.flatMap((s) => ('field' in s ? [snakeCase(s.field)] : [])).join('.');
}

// ColumnTypeSuggestions.scala: the first suggestion that applies wins; VARCHAR(4096) otherwise.

export function columnType(schema: DdlSchema): ColumnType {
  for (const suggestion of SUGGESTIONS) {
    const type = suggestion(schema);
    if (type !== null) return type;
  }
  return { kind: 'RedshiftVarchar', size: VARCHAR_SIZE };
}

const simple = (kind: 'RedshiftTimestamp' | 'RedshiftDate' | 'RedshiftSmallInt' | 'RedshiftInteger' | 'RedshiftBigInt' | 'RedshiftDouble' | 'RedshiftBoolean'): ColumnType => ({ kind });
const varchar = (size: number): ColumnType => ({ kind: 'RedshiftVarchar', size });

const SUGGESTIONS: Array<(s: DdlSchema) => ColumnType | null> = [
  // complex enum: values of at least two kinds among number, non-number, boolean
  (s) => {
    if (s.enum === undefined) return null;
    const values = s.enum.filter((e) => e.json !== null);
    const kinds = [(v: unknown) => typeof v === 'number', (v: unknown) => typeof v !== 'number', (v: unknown) => typeof v === 'boolean'];
    if (kinds.filter((k) => values.some((e) => k(e.json))).length < 2) return null;
    return varchar(values.length === 0 ? 16 : Math.max(...values.map((e) => e.text.length)));
  },
  // product types
  (s) => {
    if (s.type === undefined || !s.type.union || !isUnionType(s.type)) return null;
    const rest = [...s.type.types].filter((t) => t !== 'null');
    return rest.length === 2 && rest.includes('boolean') && rest.includes('integer') ? varchar(String(2147483647).length) : varchar(VARCHAR_SIZE);
  },
  (s) => (possiblyWithNull(s.type, 'string') && s.format === 'date-time' ? simple('RedshiftTimestamp') : null),
  (s) => (possiblyWithNull(s.type, 'string') && s.format === 'date' ? simple('RedshiftDate') : null),
  (s) => (possiblyWithNull(s.type, 'array') ? varchar(DEFAULT_ARRAY_SIZE) : null),
  integerSuggestion,
  (s) => {
    if (s.type === undefined) return null;
    const m = s.multipleOf;
    if (possiblyWithNull(s.type, 'number') && m !== undefined && !m.integer && m.value.unscaled * 100n === 10n ** BigInt(m.value.scale)) {
      return { kind: 'RedshiftDecimal', precision: 36, scale: 2 };
    }
    if (possiblyWithNull(s.type, 'number')) return simple('RedshiftDouble');
    const rest = [...s.type.types].filter((t) => t !== 'null');
    return s.type.union && rest.length === 2 && rest.includes('integer') && rest.includes('number') ? simple('RedshiftDouble') : null;
  },
  (s) => (possiblyWithNull(s.type, 'boolean') ? simple('RedshiftBoolean') : null),
  (s) =>
    s.type !== undefined && s.minLength !== undefined && s.maxLength !== undefined && s.minLength === s.maxLength && possiblyWithNull(s.type, 'string')
      ? { kind: 'RedshiftChar', size: Number(s.minLength) }
      : null,
  (s) => (possiblyWithNull(s.type, 'string') && s.format === 'uuid' ? { kind: 'RedshiftChar', size: 36 } : null),
  varcharSuggestion,
];

function intSize(max: bigint): ColumnType {
  if (max <= 32767n) return simple('RedshiftSmallInt');
  if (max <= 2147483647n) return simple('RedshiftInteger');
  return simple('RedshiftBigInt');
}

function integerSuggestion(s: DdlSchema): ColumnType | null {
  const isInteger = possiblyWithNull(s.type, 'integer');
  if (s.type !== undefined && s.maximum !== undefined && isInteger) {
    return s.maximum.integer ? intSize(toBigInt(s.maximum.value)) : { kind: 'RedshiftDecimal', precision: null, scale: null };
  }
  if (s.enum !== undefined && (s.type === undefined || isInteger)) {
    const whole = s.enum.map((e) => (e.number !== undefined && isWhole(e.number) ? toBigInt(e.number) : null));
    if (whole.length === 0 || whole.some((w) => w === null)) return null;
    return intSize(whole.reduce((a, b) => (a! > b! ? a : b))!);
  }
  if (s.type !== undefined && isInteger) return simple('RedshiftBigInt');
  if (s.multipleOf?.integer === true) {
    if (s.maximum === undefined) return simple('RedshiftInteger');
    return s.maximum.integer ? intSize(toBigInt(s.maximum.value)) : { kind: 'RedshiftDecimal', precision: null, scale: null };
  }
  return null;
}

function varcharSuggestion(s: DdlSchema): ColumnType | null {
  const isString = possiblyWithNull(s.type, 'string');
  // schema-ddl maps only the misspelt "ivp6" to its IPv6 format, so "ipv6" never gets VARCHAR(39).
  if (isString && s.format === 'ivp6') return varchar(39);
  if (isString && s.format === 'ipv4') return varchar(15);
  if (isString && s.format === 'email') return varchar(255);
  if (isString && s.maxLength !== undefined && s.enum === undefined) return varchar(Number(s.maxLength));
  if (s.enum !== undefined) {
    if (s.enum.length === 0) return null;
    const longest = Math.max(...s.enum.map((e) => (e.json === null ? 0 : typeof e.json === 'string' ? e.json.length : e.text.length)));
    return s.enum.length === 1 ? { kind: 'RedshiftChar', size: longest } : varchar(longest);
  }
  return null;
}

/** The type as schema-ddl's case classes print (`RedshiftVarchar(20)`), used in its error reports. */
export function showColumnType(t: ColumnType): string {
  if (t.kind === 'RedshiftDecimal') return `RedshiftDecimal(${t.precision === null ? 'None' : `Some(${t.precision})`},${t.scale === null ? 'None' : `Some(${t.scale})`})`;
  if (t.kind === 'RedshiftVarchar' || t.kind === 'RedshiftChar') return `${t.kind}(${t.size})`;
  return t.kind;
}

/** The type as it appears in the table's DDL (`VARCHAR(20)`, `DOUBLE PRECISION`). */
export function sqlType(t: ColumnType): string {
  switch (t.kind) {
    case 'RedshiftTimestamp':
      return 'TIMESTAMP';
    case 'RedshiftDate':
      return 'DATE';
    case 'RedshiftSmallInt':
      return 'SMALLINT';
    case 'RedshiftInteger':
      return 'INT';
    case 'RedshiftBigInt':
      return 'BIGINT';
    case 'RedshiftDouble':
      return 'DOUBLE PRECISION';
    case 'RedshiftBoolean':
      return 'BOOLEAN';
    case 'RedshiftDecimal':
      return t.precision !== null && t.scale !== null ? `DECIMAL (${t.precision}, ${t.scale})` : 'DECIMAL';
    case 'RedshiftVarchar':
      return `VARCHAR(${t.size})`;
    case 'RedshiftChar':
      return `CHAR(${t.size})`;
  }
}
