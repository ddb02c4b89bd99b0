/**
 * Micro's column endpoints over the stored events: the dotted sub-columns of `GET /micro/columns`
 * (`contexts_x.field`, `unstruct_event_x.field`) and `POST /micro/columnStats` (snowplow-micro,
 * `InMemoryStorage.getColumnStats`, `EventStorage.extractColumnsFromEvent`).
 */
import type { StoredEvent } from './event-cache.js';
import { isShreddedColumn } from './enriched-event.js';
import { columnText, QueryError } from './event-query.js';

/** Distinct values `/micro/columnStats` answers per column at most, as Micro. */
const MAX_VALUES = 20;
/** Columns one `/micro/columnStats` request may ask about. */
const MAX_COLUMNS = 1000;

export interface ColumnStats {
  sortable: boolean;
  filterable: boolean;
  /** Up to 20 distinct values, newest events first; `null` for a column that cannot be filtered on. */
  values: string[] | null;
}

/** The entity and event columns, each followed by its dotted sub-columns (the keys of its entities), sorted. */
export function columnsOf(stored: Iterable<StoredEvent>, shredded: readonly string[]): string[] {
  const names = new Set(shredded);
  for (const { row } of stored) {
    for (const column of shredded) {
      const value = row[column];
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) for (const key of Object.keys(item)) names.add(`${column}.${key}`);
      }
    }
  }
  return [...names].sort();
}

/** Reads a `/micro/columnStats` body: `{"columns": ["app_id", …]}`. */
export function parseColumnStats(body: unknown): string[] {
  const columns = (body as { columns?: unknown } | null)?.columns;
  if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string')) throw new QueryError('columns must be an array of column names such as ["app_id", "event_name"]');
  if (columns.length > MAX_COLUMNS) throw new QueryError(`at most ${MAX_COLUMNS} columns per request, got ${columns.length}`);
  return columns as string[];
}

/**
 * For each column, as Micro answers: sortable unless an entity or event column; filterable unless that or a
 * timestamp (`…_tstamp`); and for a filterable one, its first 20 distinct values as text.
 */
export function columnStats(stored: Iterable<StoredEvent>, columns: readonly string[]): Record<string, ColumnStats> {
  const stats: Record<string, ColumnStats> = {};
  const open = new Map<string, Set<string>>();
  for (const column of columns) {
    const complex = isShreddedColumn(column);
    const filterable = !complex && !column.endsWith('_tstamp');
    stats[column] = { sortable: !complex, filterable, values: filterable ? [] : null };
    if (filterable) open.set(column, new Set());
  }
  for (const { row } of stored) {
    if (open.size === 0) break;
    for (const [column, values] of open) {
      const text = columnText(row, column);
      if (typeof text === 'string') values.add(text);
      if (values.size >= MAX_VALUES) {
        stats[column]!.values = [...values];
        open.delete(column);
      }
    }
  }
  for (const [column, values] of open) stats[column]!.values = [...values];
  return stats;
}
