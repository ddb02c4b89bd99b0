import { MAX_INDEX, type SessionState } from './state.js';

/** A lowercase UUID, as trackers write their ids. */
export const UUID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/;
/** The schema's `userId` pattern: a lowercase UUID or 16 hex characters (early 2.x trackers' domain user ids). */
export const USER_ID = /^(?:[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}|[0-9a-f]{16})$/;

export interface StoredSession {
  /**
   * The whole session when every field is usable; when only its identity is (`sessionId`, `sessionIndex`),
   * an ended placeholder, so the next session still links to it and counts on from its index.
   */
  state: SessionState | null;
  /** The user's identity, kept even when the rest of the record is unusable. */
  userId: string | null;
  /** What was wrong with the record, for the log; `null` when it was fine or absent. */
  problem: string | null;
}

/**
 * Checks what a `SessionStore` returned: any JSON may come back from a file someone edited. Builds a fresh
 * object of known fields only, so stray keys (`__proto__`, `constructor`) never reach the session.
 */
export function readStoredSession(value: unknown): StoredSession {
  if (value === null || value === undefined) return { state: null, userId: null, problem: null };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { state: null, userId: null, problem: `expected an object, found ${describe(value)}` };
  }
  const record = value as Record<string, unknown>;
  const userId = typeof record.userId === 'string' && USER_ID.test(record.userId) ? record.userId : null;
  if (userId === null) return { state: null, userId: null, problem: 'userId is not a UUID or 16 hex characters' };

  const problem =
    check(record, 'sessionId', isUuid, 'a UUID') ??
    check(record, 'previousSessionId', (v) => v === null || isUuid(v), 'a UUID or null') ??
    check(record, 'sessionIndex', (v) => isIndex(v, 1), `an integer from 1 to ${MAX_INDEX}`) ??
    check(record, 'eventIndex', (v) => isIndex(v, 0), `an integer from 0 to ${MAX_INDEX}`) ??
    check(record, 'firstEventId', (v) => v === null || isUuid(v), 'a UUID or null') ??
    check(record, 'firstEventTimestamp', (v) => v === null || isIsoDate(v), 'an ISO-8601 date-time or null') ??
    check(record, 'startedAt', isTime, 'a time in ms since epoch') ??
    check(record, 'lastActivityAt', isTime, 'a time in ms since epoch') ??
    check(record, 'lastUid', (v) => v === undefined || v === null || typeof v === 'string', 'a string or null') ??
    check(record, 'ended', (v) => v === undefined || typeof v === 'boolean', 'a boolean');
  if (problem !== null) return { state: lineageOf(record, userId), userId, problem };

  const state: SessionState = {
    userId,
    sessionId: record.sessionId as string,
    previousSessionId: record.previousSessionId as string | null,
    sessionIndex: record.sessionIndex as number,
    eventIndex: record.eventIndex as number,
    firstEventId: record.firstEventId as string | null,
    firstEventTimestamp: record.firstEventTimestamp as string | null,
    startedAt: record.startedAt as number,
    lastActivityAt: record.lastActivityAt as number,
    lastUid: (record.lastUid as string | null | undefined) ?? null,
    ...(record.ended === true ? { ended: true } : {}),
  };
  return { state, userId, problem: null };
}

/** What is left of a broken record's identity: enough to continue the chain of sessions. */
function lineageOf(record: Record<string, unknown>, userId: string): SessionState | null {
  const sessionId = Object.hasOwn(record, 'sessionId') ? record.sessionId : undefined;
  const sessionIndex = Object.hasOwn(record, 'sessionIndex') ? record.sessionIndex : undefined;
  if (!isUuid(sessionId) || !isIndex(sessionIndex, 1)) return null;
  return {
    userId,
    sessionId: sessionId as string,
    previousSessionId: null,
    sessionIndex: sessionIndex as number,
    eventIndex: 0,
    firstEventId: null,
    firstEventTimestamp: null,
    startedAt: 0,
    lastActivityAt: 0,
    lastUid: null,
    ended: true,
  };
}

function check(
  record: Record<string, unknown>,
  field: string,
  valid: (value: unknown) => boolean,
  expected: string,
): string | null {
  const value = Object.hasOwn(record, field) ? record[field] : undefined;
  return valid(value) ? null : `${field} should be ${expected}, found ${describe(value)}`;
}

const isUuid = (v: unknown): boolean => typeof v === 'string' && UUID.test(v);
const isIndex = (v: unknown, min: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= MAX_INDEX;
const isTime = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && !Number.isNaN(new Date(v).getTime());
const isIsoDate = (v: unknown): boolean => typeof v === 'string' && !Number.isNaN(Date.parse(v));

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
