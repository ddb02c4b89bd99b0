/**
 * Explanations of a wait that timed out and of failed events, as text: which events came closest (with a
 * diff of the parts that differ) and which failed, with their errors. `waitFor`'s errors, the `wait`
 * command and the node:test assertions print these; Jest and Vitest matchers pass their own `diff`.
 */
import { AssertionError } from 'node:assert';
import { entitiesOf, eventSchemaOf } from './event-match.js';
import type { EventRow } from './events.js';

/** A good event that did not match, and where it differs from the query. */
export interface ClosestEvent {
  /** The event's Analytics SDK JSON, as `/micro/events` answers it. */
  event: EventRow;
  /** Where it differs: `schema`, `data.total`, `contexts[0]`, `app_id`, … */
  mismatches: string[];
  /** The query's parts, and the event's values at the same places (matched parts shown as expected). */
  expected: Record<string, unknown>;
  actual: Record<string, unknown>;
}

/** A failed event and why it failed. */
export interface FailedEventReport {
  /** What could be read of the event (Analytics SDK JSON), with its failure entities. */
  event: EventRow;
  errors: FailedEventError[];
}

export interface FailedEventError {
  /** The schema that failed, or null for the tracker payload's own fields. */
  schema: string | null;
  message: string;
  /** The failing field as a JSON path into the schema's data (`$.total`), when known. */
  path: string | null;
}

/** What a wait found when its time ran out. */
export interface WaitMiss {
  query: string;
  count: number;
  found: number;
  timeout: number;
  /** Good events looked at, when known. */
  looked?: number;
  closest: ClosestEvent[];
  /** Failed events that match the query's atomic fields and headers (newest first), and how many there are (when known). */
  bad: FailedEventReport[];
  badTotal?: number;
}

/** `expected`/`actual` as a diff; test runners pass theirs. */
export type Diff = (expected: unknown, actual: unknown) => string | null;

/** Node's own diff (node:assert's), marked `+ actual - expected`. */
export function assertDiff(expected: unknown, actual: unknown): string {
  const { message } = new AssertionError({ expected, actual, operator: 'deepStrictEqual' });
  return message.slice(message.indexOf('\n') + 1).replace(/^\n+/, '');
}

/** Why a wait did not succeed: the count, the closest events with diffs, the failed events with their errors. */
export function describeMiss(miss: WaitMiss, diff: Diff = assertDiff): string {
  const looked = miss.looked === undefined ? '' : ` (${miss.looked} good ${miss.looked === 1 ? 'event' : 'events'} looked at)`;
  const lines = [`${miss.found} of ${miss.count} ${miss.count === 1 ? 'event' : 'events'} matching ${miss.query} arrived within ${miss.timeout} ms${looked}.`];
  if (miss.closest.length > 0) {
    lines.push('', 'Closest events:');
    miss.closest.forEach((closest, i) => {
      lines.push(`  ${i + 1}. ${describeEvent(closest.event)}`, `     differs in: ${closest.mismatches.join(', ')}`);
      const text = diff(closest.expected, closest.actual);
      if (text !== null && text !== '') lines.push(indent(text, 5));
    });
  }
  const badTotal = miss.badTotal ?? miss.bad.length;
  if (badTotal > 0) lines.push('', describeFailedEvents(miss.bad, badTotal));
  return lines.join('\n');
}

/** Failed events, one line each, then their errors: `schema: $.path: message`. */
export function describeFailedEvents(bad: FailedEventReport[], total: number): string {
  const shown = total > bad.length ? `, the newest ${bad.length} shown` : '';
  const lines = [`Failed events (${total}${shown}):`];
  bad.forEach((report, i) => {
    lines.push(`  ${i + 1}. ${describeEvent(report.event)}`);
    for (const error of report.errors) lines.push(`       ${error.schema ?? 'tracker payload'}: ${error.message}`);
  });
  return lines.join('\n');
}

/** An event in one line: what it is, its app and entities, when it arrived, its id. */
export function describeEvent(row: EventRow): string {
  const type = typeof row.event === 'string' ? row.event : 'unknown event';
  const what = type === 'struct' ? `struct ${String(row.se_category ?? '')}/${String(row.se_action ?? '')}` : type === 'unstruct' ? (eventSchemaOf(row) ?? 'unstruct') : type;
  const entities = entitiesOf(row)
    .map((entity) => entity.uri)
    .filter((uri) => !uri.includes('/failure/jsonschema/'))
    .map((uri) => uri.replace(/^iglu:[^/]+\/([^/]+)\/[^/]+\/(.+)$/, '$1 $2'));
  const details = [
    `app_id ${row.app_id === undefined || row.app_id === null ? '-' : JSON.stringify(row.app_id)}`,
    entities.length === 0 ? 'no entities' : `entities ${entities.join(', ')}`,
    `at ${String(row.collector_tstamp ?? '?')}`,
    `event_id ${String(row.event_id ?? '-')}`,
  ];
  return `${what} (${details.join('; ')})`;
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}
