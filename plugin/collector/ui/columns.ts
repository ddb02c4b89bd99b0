/** What the table shows of an event row (the Analytics SDK JSON), read the same way everywhere in the UI. */
import type { Row } from './api.js';

export const SESSION_COLUMN = 'contexts_com_snowplowanalytics_snowplow_client_session_1';
export const FAILURE_COLUMN = 'contexts_com_snowplowanalytics_snowplow_failure_1';

export interface FailureError {
  source: string;
  message: string;
  path?: string;
  field?: string;
  keyword?: string;
}

export interface Failure {
  failureType: string;
  schema: string | null;
  data: unknown;
  errors: FailureError[];
}

export function sessionEntity(row: Row): Record<string, unknown> | null {
  const list = row[SESSION_COLUMN];
  return Array.isArray(list) && list.length > 0 ? (list[0] as Record<string, unknown>) : null;
}

export function failures(row: Row): Failure[] {
  const list = row[FAILURE_COLUMN];
  return Array.isArray(list) ? (list as Failure[]) : [];
}

export function isValid(row: Row): boolean {
  return failures(row).length === 0;
}

export function eventLabel(row: Row): string {
  if (row.event === 'struct' && typeof row.se_action === 'string') return `struct: ${row.se_action}`;
  return String(row.event_name ?? row.event ?? '–');
}

export function schemaOf(row: Row): string {
  if (typeof row.event_vendor !== 'string') return '–';
  return `iglu:${row.event_vendor}/${String(row.event_name)}/${String(row.event_format)}/${String(row.event_version)}`;
}

export function userOf(row: Row): string {
  const entity = sessionEntity(row);
  return String(row.user_id ?? entity?.userId ?? row.domain_userid ?? row.network_userid ?? '–');
}

export function sessionOf(row: Row): string {
  const entity = sessionEntity(row);
  if (entity === null) return typeof row.domain_sessionid === 'string' ? row.domain_sessionid.slice(0, 8) : '–';
  return `${String(entity.sessionId).slice(0, 8)} #${String(entity.sessionIndex)}`;
}

/** The entity and event columns of a row: `contexts_…` (arrays) and `unstruct_event_…`. */
export function shredded(row: Row): Array<[string, unknown]> {
  return Object.entries(row).filter(([key]) => key.startsWith('contexts_') || key.startsWith('unstruct_event_'));
}
