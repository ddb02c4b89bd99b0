import { fieldsEqual, showType, typesEqual, type ParquetField, type ParquetType } from './parquet.js';

/**
 * schema-ddl's `parquet/Migrations.scala`: the differences between two Parquet fields, each Breaking or
 * not, and their merge. Non-breaking: a key added or removed, nullable <-> required (the merged column is
 * nullable). Breaking: an incompatible type (any type change but a struct's keys). Paths are column names
 * from the root, `[arrayDown]` for an array's items.
 */
export type ParquetMigration =
  | { kind: 'KeyRemoval'; path: string[]; removed: ParquetType }
  | { kind: 'KeyAddition'; path: string[]; added: ParquetType }
  | { kind: 'RequiredNullable'; path: string[] }
  | { kind: 'NullableRequired'; path: string[] }
  | { kind: 'IncompatibleType'; path: string[]; oldType: ParquetType; newType: ParquetType };

export const ARRAY_DOWN = '[arrayDown]';

export function isBreaking(m: ParquetMigration): boolean {
  return m.kind === 'IncompatibleType';
}

/** The migration as schema-ddl's `toString` prints it. */
export function describeParquetMigration(m: ParquetMigration): string {
  const at = `/${m.path.join('/')}`;
  switch (m.kind) {
    case 'KeyRemoval':
      return `Key removal at ${at}`;
    case 'KeyAddition':
      return `Schema key addition at ${at}`;
    case 'RequiredNullable':
      return `Changing nullable property to required at ${at}`;
    case 'NullableRequired':
      return `Changing required property to nullable at ${at}`;
    case 'IncompatibleType':
      return `Incompatible type change ${showType(m.oldType)} to ${showType(m.newType)} at ${at}`;
  }
}

/** A set of migrations, as schema-ddl's `Set[ParquetMigration]` (equal migrations kept once). */
class Migrations {
  readonly #byKey = new Map<string, ParquetMigration>();

  add(m: ParquetMigration): void {
    this.#byKey.set(`${describeParquetMigration(m)}|${'removed' in m ? showType(m.removed) : 'added' in m ? showType(m.added) : ''}`, m);
  }

  addAll(ms: Iterable<ParquetMigration>): void {
    for (const m of ms) this.add(m);
  }

  get values(): ParquetMigration[] {
    return [...this.#byKey.values()];
  }
}

interface Merged<T> {
  migrations: ParquetMigration[];
  result: T | null;
}

/** The merged nullability of a pair, and the migration it means (paths in root-first order). */
function mergeNullability(source: boolean, target: boolean, path: string[], migrations: Migrations): boolean {
  if (source && !target) migrations.add({ kind: 'RequiredNullable', path });
  else if (!source && target) migrations.add({ kind: 'NullableRequired', path });
  return source || target;
}

function mergeTypes(path: string[], source: ParquetType, target: ParquetType): Merged<ParquetType> {
  const migrations = new Migrations();
  const incompatible = (): Merged<ParquetType> => {
    migrations.add({ kind: 'IncompatibleType', path, oldType: source, newType: target });
    return { migrations: migrations.values, result: null };
  };
  if (source.kind === 'Struct') {
    if (target.kind !== 'Struct') return incompatible();
    const focus = (fields: ParquetField[], name: string) => fields.find((f) => f.name === name) ?? null;
    const forward = source.fields.map((f) => mergeFieldPair([...path, f.name], f, focus(target.fields, f.name)));
    // Comparing the target's fields with the source's finds the additions.
    const reverse = target.fields.map((f) => mergeFieldPair([...path, f.name], f, focus(source.fields, f.name)));
    migrations.addAll(forward.flatMap((m) => m.migrations));
    for (const m of reverse.flatMap((r) => r.migrations)) if (m.kind === 'KeyRemoval') migrations.add({ kind: 'KeyAddition', path: m.path, added: m.removed });
    const all = <T>(results: Array<Merged<T>>): T[] => (results.every((r) => r.result !== null) ? results.map((r) => r.result!) : []);
    const targetFields = all(reverse);
    const sourceFields = all(forward);
    const targetNames = new Set(targetFields.map((f) => f.name));
    const sourceNames = new Set(sourceFields.map((f) => f.name));
    // Source fields keep their order (a removed one becomes nullable); new ones follow in the target's order.
    const fields = [
      ...sourceFields.map((f) => (targetNames.has(f.name) ? f : { ...f, nullable: true })),
      ...targetFields.filter((f) => !sourceNames.has(f.name)),
    ];
    return { migrations: migrations.values, result: fields.length > 0 ? { kind: 'Struct', fields } : null };
  }
  if (source.kind === 'Array') {
    if (target.kind !== 'Array') return incompatible();
    const down = [...path, ARRAY_DOWN];
    const nullable = mergeNullability(source.nullable, target.nullable, down, migrations);
    const element = mergeTypes(down, source.element, target.element);
    migrations.addAll(element.migrations);
    return { migrations: migrations.values, result: element.result === null ? null : { kind: 'Array', element: element.result, nullable } };
  }
  return typesEqual(source, target) ? { migrations: [], result: target } : incompatible();
}

function mergeFieldPair(path: string[], source: ParquetField, target: ParquetField | null): Merged<ParquetField> {
  if (target === null) return { migrations: [{ kind: 'KeyRemoval', path, removed: source.type }], result: { ...source, nullable: true } };
  if (fieldsEqual(source, target)) return { migrations: [], result: source };
  const migrations = new Migrations();
  const nullable = mergeNullability(source.nullable, target.nullable, path, migrations);
  const type = mergeTypes(path, source.type, target.type);
  migrations.addAll(type.migrations);
  const accessors = new Set([...source.accessors, ...target.accessors]);
  return { migrations: migrations.values, result: type.result === null ? null : { name: source.name, type: type.result, nullable, accessors } };
}

/** Every migration from `source` to `target` (schema-ddl's `assessSchemaMigration`). */
export function assessParquetMigration(source: ParquetField, target: ParquetField): ParquetMigration[] {
  return mergeFieldPair([], source, target).migrations;
}

/** The merged field, or the breaking migrations that prevent the merge (schema-ddl's `mergeSchemas`). */
export function mergeParquetFields(source: ParquetField, target: ParquetField): { ok: true; field: ParquetField; migrations: ParquetMigration[] } | { ok: false; breaking: ParquetMigration[]; migrations: ParquetMigration[] } {
  const merged = mergeFieldPair([], source, target);
  if (merged.result !== null) return { ok: true, field: merged.result, migrations: merged.migrations };
  return { ok: false, breaking: merged.migrations.filter(isBreaking), migrations: merged.migrations };
}
