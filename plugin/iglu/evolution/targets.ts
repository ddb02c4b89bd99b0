import { pointerSegment } from '../json.js';
import type { DdlSchema } from './ddl-schema.js';
import { buildField, normalizeField, normalizeName, showType, type ParquetField } from './parquet.js';
import { ARRAY_DOWN, assessParquetMigration, describeParquetMigration, isBreaking, mergeParquetFields, type ParquetMigration } from './parquet-migrations.js';
import { redshiftColumns, sqlType, type Column } from './redshift.js';
import { describeRedshiftChange, isRedshiftBreaking, mergeRedshiftColumns, type RedshiftChange } from './redshift-migrations.js';

/** The warehouse rules a check applies: schema-ddl's Parquet migrations, or its Redshift model merge. */
export type EvolutionTarget = 'parquet' | 'redshift';
export const EVOLUTION_TARGETS: readonly EvolutionTarget[] = ['parquet', 'redshift'];

/** One difference between the model built so far and the next version, under one target's rules. */
export interface TargetChange {
  /** schema-ddl's name for it (`IncompatibleType`, `KeyAddition`, `VarcharExtension`, …). */
  kind: string;
  /** The column: a Parquet path (`/object_key/nested_key`, `[arrayDown]` for array items) or a Redshift column name. */
  path: string;
  breaking: boolean;
  /** The types before and after, as schema-ddl names them (`null` for an addition or a removal). */
  old: string | null;
  new: string | null;
  description: string;
  /** Where the column's property is, as a JSON Pointer into the new version (or its nearest existing parent). */
  pointer: string;
}

/** A target's model of one schema, and how the next version merges into it (`state: null`: it does not). */
export interface TargetRules<S> {
  build(schema: DdlSchema, raw: Record<string, unknown>): S;
  merge(state: S, next: S, raw: Record<string, unknown>): { state: S | null; changes: TargetChange[] };
}

/**
 * Parquet: each version's field (schema-ddl's `Field.build` with `enforceValuePresence = false`, then
 * `Field.normalize`, so names are the loaders' column names), merged in order (`Migrations.mergeSchemas`).
 * A schema that makes no column (an object with no properties that allows none) is `null`.
 */
export const parquetRules: TargetRules<ParquetField | null> = {
  build: (schema) => {
    const built = buildField('root', schema, false);
    return built === null ? null : normalizeField(built);
  },
  merge: (state, next, raw) => {
    if (state === null || next === null) {
      const added = next === null ? [] : assessParquetMigration(emptyLike(next), next);
      return { state: state ?? next, changes: added.map((m) => parquetChange(m, raw)) };
    }
    const merged = mergeParquetFields(state, next);
    const migrations = sortByPath(merged.migrations);
    return { state: merged.ok ? merged.field : null, changes: migrations.map((m) => parquetChange(m, raw)) };
  },
};

/** A struct with no fields, for reporting every field of a first real model as an addition. */
function emptyLike(field: ParquetField): ParquetField {
  return field.type.kind === 'Struct' ? { ...field, type: { kind: 'Struct', fields: [] } } : field;
}

function parquetChange(m: ParquetMigration, raw: Record<string, unknown>): TargetChange {
  const types = m.kind === 'IncompatibleType' ? [showType(m.oldType), showType(m.newType)] : m.kind === 'KeyAddition' ? [null, showType(m.added)] : m.kind === 'KeyRemoval' ? [showType(m.removed), null] : [null, null];
  const nullability = m.kind === 'RequiredNullable' ? ['nullable', 'required'] : m.kind === 'NullableRequired' ? ['required', 'nullable'] : null;
  return {
    kind: m.kind,
    path: `/${m.path.join('/')}`,
    breaking: isBreaking(m),
    old: nullability?.[0] ?? types[0] ?? null,
    new: nullability?.[1] ?? types[1] ?? null,
    description: describeParquetMigration(m),
    pointer: pointerOfParquetPath(m.path, raw),
  };
}

function sortByPath(migrations: ParquetMigration[]): ParquetMigration[] {
  return [...migrations].sort((a, b) => (a.path.join('/') < b.path.join('/') ? -1 : a.path.join('/') > b.path.join('/') ? 1 : 0));
}

/** The property behind a Parquet column path, in the raw schema: each name matched through `normalizeName`. */
function pointerOfParquetPath(path: string[], raw: Record<string, unknown>): string {
  let pointer = '';
  let node: unknown = raw;
  for (const segment of path) {
    const current = node as Record<string, unknown> | null;
    if (current === null || typeof current !== 'object') break;
    if (segment === ARRAY_DOWN) {
      if (current.items === null || typeof current.items !== 'object' || Array.isArray(current.items)) break;
      pointer += '/items';
      node = current.items;
      continue;
    }
    const properties = (current.properties ?? {}) as Record<string, unknown>;
    const key = Object.keys(properties).find((k) => k === segment) ?? Object.keys(properties).find((k) => normalizeName(k) === segment);
    if (key === undefined) break;
    pointer += `/properties/${pointerSegment(key)}`;
    node = properties[key];
  }
  return pointer;
}

/**
 * Redshift: each version's columns (schema-ddl's `ShredModel.good`), merged in order (`GoodModel.merge`);
 * a version that does not merge gets a `_recovered_` table and the next one merges with the table as it was.
 */
export const redshiftRules: TargetRules<Column[]> = {
  build: (schema) => redshiftColumns(schema),
  merge: (state, next) => {
    const merged = mergeRedshiftColumns(state, next);
    return { state: merged.columns, changes: merged.changes.map(redshiftChange) };
  },
};

function redshiftChange(change: RedshiftChange): TargetChange {
  const old = 'old' in change ? change.old : null;
  const column = change.column;
  const name = (old ?? column)!.name;
  const nullabilityOnly = change.kind === 'NullableRequired' && column !== null;
  return {
    kind: change.kind,
    path: name,
    breaking: isRedshiftBreaking(change),
    old: old === null ? null : nullabilityOnly ? 'NOT NULL' : sqlType(old.type),
    new: column === null ? null : nullabilityOnly ? 'NULL' : sqlType(column.type),
    description: describeRedshiftChange(change),
    pointer: (column ?? old)!.pointer,
  };
}

export function rulesFor(target: EvolutionTarget): TargetRules<unknown> {
  return (target === 'parquet' ? parquetRules : redshiftRules) as TargetRules<unknown>;
}
