/**
 * Micro 4's `POST /micro/events` (filters, valid/failed, time range, sorting, pages) and
 * `POST /micro/timeline` (counts per time bucket), over the collector's stored events.
 */
import type { StoredEvent } from './event-cache.js';
import { ENRICHED_FIELDS, isShreddedColumn } from './enriched-event.js';

/** A filter: any of `values` in any of `columns`; `exact` (Micro 4.4+), or a substring (`contains`). */
export interface EventsFilter {
  columns: string[];
  values: string[];
  match: 'exact' | 'contains';
}

export interface EventsQuery {
  page: number;
  pageSize: number;
  /** Every filter must match; within one, any of its values in any of its columns (case-insensitive). */
  filters: EventsFilter[];
  validEvents: boolean | null;
  /** `collector_tstamp` in ms: start inclusive, end exclusive. */
  timeRange: { start: number | null; end: number | null };
  /** `null`: newest first, in arrival order. */
  sorting: { column: string; desc: boolean } | null;
}

export interface EventsPage {
  events: StoredEvent[];
  totalPages: number;
  totalItems: number;
}

export interface TimelineBucket {
  start: string;
  end: string;
}

/** A request the client got wrong: answered with 400 and this message. */
export class QueryError extends Error {}

const DEFAULT_PAGE_SIZE = 50;
/** Buckets one `/micro/timeline` request may ask for. */
export const MAX_BUCKETS = 10_000;

/**
 * Reads a `/micro/events` body. Micro requires `page`, `pageSize` and `filters`; here they default to 1,
 * 50 and none. A filter takes `values` (Micro 4.4+: exact matches) or `value` (before: a substring).
 */
export function parseEventsQuery(body: unknown): EventsQuery {
  const query = record(body, 'the request body');
  const page = positiveInteger(query.page, 'page', 1);
  const pageSize = positiveInteger(query.pageSize, 'pageSize', DEFAULT_PAGE_SIZE);
  const filters = query.filters ?? [];
  if (!Array.isArray(filters)) throw new QueryError('filters must be an array of {"column", "value"} or {"column", "values"}');
  const validEvents = query.validEvents ?? null;
  if (validEvents !== null && typeof validEvents !== 'boolean') throw new QueryError('validEvents must be true, false or null');
  return {
    page,
    pageSize,
    filters: filters.map(parseFilter).filter((f): f is EventsFilter => f !== null),
    validEvents,
    timeRange: parseTimeRange(query.timeRange),
    sorting: parseSorting(query.sorting),
  };
}

/**
 * A filter names one `column` (Micro), or several `columns` any of which may match (this collector's
 * extension). Micro matches `values` exactly (4.4+) and `value` as a substring (before 4.4), and ignores a
 * filter on an entity or event column; the extension may search those, and says how with `match`.
 */
function parseFilter(value: unknown, i: number): EventsFilter | null {
  const filter = record(value, `filters[${i}]`);
  const columns = filter.columns ?? [filter.column];
  if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === 'string' && c !== '')) {
    throw new QueryError(`filters[${i}].column must be a column name such as app_id (or "columns", an array of them)`);
  }
  const values = filter.values ?? (filter.value === undefined ? undefined : [filter.value]);
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
    throw new QueryError(`filters[${i}] needs "value" (a string) or "values" (an array of strings)`);
  }
  const match = filter.match ?? (filter.values === undefined ? 'contains' : 'exact');
  if (match !== 'exact' && match !== 'contains') throw new QueryError(`filters[${i}].match must be "exact" or "contains", got ${JSON.stringify(match)}`);
  if (filter.columns === undefined && isShreddedColumn(columns[0] as string)) return null; // as Micro: entity and event columns are not filtered on
  const wanted = values.filter((v) => v !== '').map((v) => v.toLowerCase());
  return wanted.length === 0 ? null : { columns: columns as string[], values: wanted, match }; // no value: as Micro, no filter
}

function parseTimeRange(value: unknown): EventsQuery['timeRange'] {
  if (value === undefined || value === null) return { start: null, end: null };
  const range = record(value, 'timeRange');
  return { start: instant(range.start, 'timeRange.start'), end: instant(range.end, 'timeRange.end') };
}

function parseSorting(value: unknown): EventsQuery['sorting'] {
  if (value === undefined || value === null) return null;
  const sorting = record(value, 'sorting');
  if (typeof sorting.column !== 'string' || sorting.column === '') throw new QueryError('sorting.column must be a column name such as collector_tstamp');
  if (sorting.desc !== undefined && typeof sorting.desc !== 'boolean') throw new QueryError('sorting.desc must be true or false');
  return { column: sorting.column, desc: sorting.desc === true };
}

/** One page of the matching events, and how many match in all. */
export function runEventsQuery(stored: Iterable<StoredEvent>, query: EventsQuery): EventsPage {
  const { start, end } = query.timeRange;
  const matches: StoredEvent[] = [];
  for (const event of stored) {
    if (start !== null && event.time < start) continue;
    if (end !== null && event.time >= end) continue;
    if (query.filters.every((filter) => filter.columns.some((column) => matchesFilter(columnText(event.row, column), filter)))) matches.push(event);
  }
  if (query.sorting !== null) {
    const { column, desc } = query.sorting;
    // Ties keep newest first; absent values go last whichever the direction.
    matches.sort((a, b) => compareValues(a.row[column], b.row[column], desc) || b.seq - a.seq);
  }
  const from = (query.page - 1) * query.pageSize;
  return { events: matches.slice(from, from + query.pageSize), totalItems: matches.length, totalPages: Math.ceil(matches.length / query.pageSize) };
}

/** A column's value as the filters and sorting read it: objects and arrays as their JSON. */
function textOf(value: unknown): string {
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** By UTF-16 code units, as ISO timestamps and ids sort (faster than a locale's order, and the same everywhere). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const ATOMIC = new Set<string>(ENRICHED_FIELDS);

/**
 * A column's value as text, as Micro reads it from an event's JSON (a string as it is, anything else as its
 * JSON; an atomic field without a value is `null`); `contexts_x.field` is that field of each entity. `undefined`:
 * the event has no such column.
 */
export function columnText(row: Readonly<Record<string, unknown>>, column: string): string | string[] | undefined {
  const dot = column.indexOf('.');
  if (dot !== -1 && isShreddedColumn(column)) {
    const value = row[column.slice(0, dot)];
    const key = column.slice(dot + 1);
    const items = (Array.isArray(value) ? value : [value]).filter((item): item is Record<string, unknown> => item !== null && typeof item === 'object' && Object.hasOwn(item, key));
    return items.length === 0 ? undefined : items.map((item) => textOf(item[key]));
  }
  const value = row[column];
  if (value === undefined || value === null) return ATOMIC.has(column) ? 'null' : undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function matchesFilter(text: string | string[] | undefined, filter: EventsFilter): boolean {
  if (text === undefined) return false;
  return (Array.isArray(text) ? text : [text]).some((t) => {
    const lower = t.toLowerCase();
    return filter.values.some((w) => (filter.match === 'exact' ? lower === w : lower.includes(w)));
  });
}

function compareValues(a: unknown, b: unknown, desc: boolean): number {
  const missingA = a === undefined || a === null;
  const missingB = b === undefined || b === null;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  const order = typeof a === 'number' && typeof b === 'number' ? a - b : compareText(textOf(a), textOf(b));
  return desc ? -order : order;
}

/** Reads a `/micro/timeline` body: `{"buckets": [{"start", "end"}]}`. */
export function parseTimeline(body: unknown): Array<{ bucket: TimelineBucket; start: number; end: number }> {
  const buckets = record(body, 'the request body').buckets;
  if (!Array.isArray(buckets)) throw new QueryError('buckets must be an array of {"start", "end"} ISO 8601 times');
  if (buckets.length > MAX_BUCKETS) throw new QueryError(`at most ${MAX_BUCKETS} buckets per request, got ${buckets.length}`);
  return buckets.map((value, i) => {
    const bucket = record(value, `buckets[${i}]`);
    const start = instant(bucket.start, `buckets[${i}].start`);
    const end = instant(bucket.end, `buckets[${i}].end`);
    if (start === null || end === null) throw new QueryError(`buckets[${i}] needs both start and end`);
    return { bucket: { start: bucket.start as string, end: bucket.end as string }, start, end };
  });
}

/** Valid and failed events per bucket (start inclusive, end exclusive), in the buckets' order. */
export function runTimeline(stored: Iterable<StoredEvent>, buckets: ReturnType<typeof parseTimeline>) {
  const valid: number[] = [];
  const failed: number[] = [];
  for (const event of stored) (event.valid ? valid : failed).push(event.time);
  valid.sort((a, b) => a - b);
  failed.sort((a, b) => a - b);
  const count = (times: number[], start: number, end: number) => Math.max(0, lowerBound(times, end) - lowerBound(times, start));
  return { points: buckets.map(({ bucket, start, end }) => ({ validEvents: count(valid, start, end), failedEvents: count(failed, start, end), bucket })) };
}

function lowerBound(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new QueryError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1) throw new QueryError(`${name} must be a whole number >= 1, got ${JSON.stringify(value)}`);
  return value as number;
}

function instant(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  const time = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) throw new QueryError(`${name} must be an ISO 8601 time such as 2025-01-01T00:00:00Z, got ${JSON.stringify(value)}`);
  return time;
}
