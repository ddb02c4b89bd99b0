import { showColumnType, sqlType, type Column, type ColumnType } from './redshift.js';

/**
 * schema-ddl's `ShredModel.GoodModel.merge` (`redshift/ShredModel.scala`, `internal/Migrations.scala`):
 * whether the next version's columns can be merged into the table built so far. Breaking: a required
 * column made nullable or removed, a type the column cannot hold. Everything else merges: new columns
 * (nullable), wider VARCHARs, and narrower types the existing column can hold.
 */
export type RedshiftChange =
  | { kind: 'ColumnAddition'; column: Column }
  | { kind: 'VarcharExtension'; old: Column; column: Column }
  | { kind: 'NoChanges'; old: Column; column: Column | null; why: string }
  | { kind: 'IncompatibleTypes'; old: Column; column: Column }
  | { kind: 'NullableRequired'; old: Column; column: Column | null };

export function isRedshiftBreaking(change: RedshiftChange): boolean {
  return change.kind === 'IncompatibleTypes' || change.kind === 'NullableRequired';
}

/** A breaking change as schema-ddl's `Breaking.report` prints it; other changes in words. */
export function describeRedshiftChange(change: RedshiftChange): string {
  switch (change.kind) {
    case 'IncompatibleTypes':
      return `Incompatible types in column ${change.old.name} old ${showColumnType(change.old.type)} new ${showColumnType(change.column.type)}`;
    case 'NullableRequired':
      return `Making required column nullable ${change.old.name}`;
    case 'ColumnAddition':
      return `Column addition ${change.column.name} ${sqlType(change.column.type)} (nullable)`;
    case 'VarcharExtension':
      return `Column ${change.old.name} widened from ${sqlType(change.old.type)} to ${sqlType(change.column.type)}`;
    case 'NoChanges':
      return `Column ${change.old.name}: ${change.why}`;
  }
}

/** The model after merging: its columns (what the table has); `null` when a breaking change prevents it. */
export interface RedshiftMerge {
  columns: Column[] | null;
  changes: RedshiftChange[];
}

/** Merges the next version's columns into the table's (schema-ddl's `merge`). */
export function mergeRedshiftColumns(table: Column[], next: Column[]): RedshiftMerge {
  const tableByName = new Map(table.map((c) => [c.name, c]));
  const nextByName = new Map(next.map((c) => [c.name, c]));
  const additions = next.filter((c) => !tableByName.has(c.name)).map((c) => ({ ...c, nullable: true })); // a late addition is nullable
  const changes: RedshiftChange[] = [];
  for (const old of table.filter((c) => !nextByName.has(c.name))) {
    changes.push(old.nullable ? { kind: 'NoChanges', old, column: null, why: 'removed from the schema; the column stays, NULL from now on' } : { kind: 'NullableRequired', old, column: null });
  }
  for (const column of next.filter((c) => tableByName.has(c.name))) {
    const change = modification(tableByName.get(column.name)!, column);
    if (change !== null) changes.push(change);
  }
  changes.push(...additions.map((column): RedshiftChange => ({ kind: 'ColumnAddition', column })));
  if (changes.some(isRedshiftBreaking)) return { columns: null, changes };
  const widened = new Map(changes.flatMap((c) => (c.kind === 'VarcharExtension' ? [[c.old.name, c.column] as const] : [])));
  return { columns: [...table.map((c) => widened.get(c.name) ?? c), ...additions], changes };
}

/** What merging one column means; `null` when nothing differs. */
function modification(old: Column, column: Column): RedshiftChange | null {
  if (!old.nullable && column.nullable) return { kind: 'NullableRequired', old, column };
  const [o, n] = [old.type, column.type];
  const keep = (why: string): RedshiftChange => ({ kind: 'NoChanges', old, column, why });
  const fits = (ok: boolean): RedshiftChange =>
    ok ? keep(`${sqlType(n)} fits the column's ${sqlType(o)}: the column is kept`) : { kind: 'IncompatibleTypes', old, column };
  const nullability = old.nullable && !column.nullable ? keep('required now; the column stays nullable') : null;
  const varcharOf = (t: ColumnType) => (t.kind === 'RedshiftVarchar' ? t.size : null);
  const oldVarchar = varcharOf(o);
  switch (n.kind) {
    case 'RedshiftVarchar':
      if (oldVarchar === null) return { kind: 'IncompatibleTypes', old, column };
      if (n.size > oldVarchar) return { kind: 'VarcharExtension', old, column };
      return n.size < oldVarchar ? keep(`${sqlType(n)} is narrower than the column's ${sqlType(o)}: the column is kept`) : nullability;
    case 'RedshiftDecimal': {
      const precision = n.precision ?? 18;
      if (o.kind === 'RedshiftDouble') return fits(true);
      if (oldVarchar !== null) return fits(oldVarchar >= precision);
      if (o.kind === 'RedshiftDecimal') return sameType(o, n) ? nullability : fits((o.precision ?? 18) >= precision && (o.scale ?? 0) >= (n.scale ?? 0));
      return fits(false);
    }
    case 'RedshiftChar':
      if (oldVarchar !== null) return fits(oldVarchar >= n.size);
      if (o.kind === 'RedshiftChar') return o.size === n.size ? nullability : fits(o.size >= n.size);
      return fits(false);
    default:
      break;
  }
  if (sameType(o, n)) return nullability;
  const digits = { RedshiftSmallInt: 5, RedshiftInteger: 10, RedshiftBigInt: 19 } as const;
  switch (n.kind) {
    case 'RedshiftSmallInt':
    case 'RedshiftInteger':
    case 'RedshiftBigInt': {
      const wider = { RedshiftSmallInt: ['RedshiftInteger', 'RedshiftBigInt'], RedshiftInteger: ['RedshiftBigInt'], RedshiftBigInt: [] as string[] }[n.kind];
      if (wider.includes(o.kind) || o.kind === 'RedshiftDouble') return fits(true);
      if (oldVarchar !== null) return fits(oldVarchar >= digits[n.kind]);
      if (o.kind === 'RedshiftDecimal') return fits((o.precision ?? 18) - (o.scale ?? 0) >= digits[n.kind]);
      return fits(false);
    }
    case 'RedshiftDate':
      return fits(oldVarchar !== null && oldVarchar >= 10);
    case 'RedshiftTimestamp':
      return fits(oldVarchar !== null && oldVarchar >= 25); // DD-MM-YYYY HH:mm:ss.ttttt
    case 'RedshiftBoolean':
      return fits(oldVarchar !== null && oldVarchar >= 5);
    default:
      return fits(false);
  }
}

function sameType(a: ColumnType, b: ColumnType): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
