import type { SessionEndReason, SessionState } from '../session/state.js';
import type { RecordTransaction, SharedSessionRecord } from './session-store.js';
import type { SqliteDatabase, SqliteStatement } from './sqlite-driver.js';
import { SESSIONS_TABLE } from './sqlite-schema.js';

/** The row key of the default (unkeyed) session. */
export const DEFAULT_KEY = '';
/** The columns a write may change without touching the idle index (every one but `key`, `ended`, `listed_activity_at`). */
const UNINDEXED = ['user_id', 'session_id', 'previous_session_id', 'session_index', 'event_index', 'first_event_id', 'first_event_timestamp', 'started_at', 'last_activity_at', 'last_uid', 'anonymous', 'pending'];
const COLUMNS = ['key', ...UNINDEXED, 'ended', 'listed_activity_at'];

/** A row of the sessions table. */
export interface Row {
  key: string;
  user_id: string;
  session_id: string | null;
  previous_session_id: string | null;
  session_index: number | null;
  event_index: number | null;
  first_event_id: string | null;
  first_event_timestamp: string | null;
  started_at: number | null;
  last_activity_at: number;
  last_uid: string | null;
  anonymous: number;
  pending: string | null;
  ended: number;
  /** The activity the idle index lists the key at: `last_activity_at` as of its last listing, never later. */
  listed_activity_at: number;
}

/** A key that may be idle, as the idle index lists it. */
export interface IdleRow {
  key: string;
  listed_activity_at: number;
  last_activity_at: number;
}

/**
 * The sessions table through one connection: point reads, and the writes of a transaction. The idle index
 * (`ended`, `listed_activity_at`) serves the checker. A write that continues the same live session (its
 * activity and event indexes: most writes) leaves the index alone: one page written instead of three. The
 * key stays listed at an earlier activity; `relist` moves the keys the checker found listed behind their
 * activity, so each live session is moved in the index at most once per time it looks idle, not per write.
 */
export class SessionRows {
  readonly #read: SqliteStatement;
  readonly #upsert: SqliteStatement;
  readonly #touch: SqliteStatement;
  readonly #remove: SqliteStatement;
  readonly #idle: SqliteStatement;
  readonly #relist: SqliteStatement;
  readonly #prune: SqliteStatement;
  readonly #dataVersion: SqliteStatement;
  /** Rows read in the current write transaction, by key: a write compares with them. */
  readonly #readInTx = new Map<string, Row | undefined>();
  readonly tx: RecordTransaction;

  constructor(db: SqliteDatabase) {
    const t = SESSIONS_TABLE;
    this.#read = db.prepare(`SELECT * FROM ${t} WHERE key = ?`);
    this.#upsert = db.prepare(
      `INSERT INTO ${t} (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT(key) DO UPDATE SET ${COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(', ')}`,
    );
    this.#touch = db.prepare(`UPDATE ${t} SET ${UNINDEXED.map((c) => `${c} = ?`).join(', ')} WHERE key = ?`);
    this.#remove = db.prepare(`DELETE FROM ${t} WHERE key = ?`);
    this.#idle = db.prepare(
      `SELECT key, listed_activity_at, last_activity_at FROM ${t} WHERE ended = 0 AND listed_activity_at < ? AND listed_activity_at >= ? ORDER BY ended, listed_activity_at LIMIT ?`,
    );
    this.#relist = db.prepare(`UPDATE ${t} SET listed_activity_at = last_activity_at WHERE key = ? AND ended = 0 AND listed_activity_at < last_activity_at`);
    // Listed before the retention may still mean active since: the row's own activity decides.
    this.#prune = db.prepare(
      `DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t} WHERE ended IN (0, 1) AND listed_activity_at < @before AND key <> '' ORDER BY ended, listed_activity_at LIMIT @limit) AND last_activity_at < @before`,
    );
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.tx = {
      read: (key) => {
        const k = key ?? DEFAULT_KEY;
        const row = this.#read.get(k) as Row | undefined;
        this.#readInTx.set(k, row);
        return row === undefined ? null : recordOf(row);
      },
      write: (key, record) => this.#write(key ?? DEFAULT_KEY, record),
    };
  }

  /** Starts the bookkeeping of a write transaction (call first in its body). */
  begin(): void {
    this.#readInTx.clear();
  }

  get(key: string | undefined): SharedSessionRecord | null {
    const row = this.#read.get(key ?? DEFAULT_KEY) as Row | undefined;
    return row === undefined ? null : recordOf(row);
  }

  dataVersion(): number {
    return this.#dataVersion.get() as number;
  }

  idle(before: number, from: number, limit: number): IdleRow[] {
    return this.#idle.all(before, from, limit) as IdleRow[];
  }

  /** In a write transaction: lists each key at its activity (the checker found it listed behind). */
  relist(keys: string[]): void {
    for (const key of keys) this.#relist.run(key);
  }

  /** In a write transaction: deletes up to `limit` keyed records (never the default's) last active before `before`. */
  prune(before: number, limit: number): number {
    return this.#prune.run({ before, limit }).changes;
  }

  #write(key: string, record: SharedSessionRecord | null): void {
    const before = this.#readInTx.get(key);
    this.#readInTx.delete(key); // a second write without a read is a whole one
    if (record === null) {
      this.#remove.run(key);
      return;
    }
    const s = record.session;
    const activity = s?.lastActivityAt ?? Date.now();
    const values = unindexedValues(record, activity);
    const continues = before !== undefined && before.ended === 0 && s !== null && s.ended !== true && s.sessionId === before.session_id && activity >= before.listed_activity_at;
    if (continues) this.#touch.run(...values, key);
    else this.#upsert.run(key, ...values, s === null || s.ended === true ? 1 : 0, activity); // a record without a live session is never an idle candidate
  }
}

/** The record of a row. */
export function recordOf(row: Row): SharedSessionRecord {
  const session: SessionState | null =
    row.session_id === null
      ? null
      : {
          userId: row.user_id,
          sessionId: row.session_id,
          previousSessionId: row.previous_session_id,
          sessionIndex: row.session_index as number,
          eventIndex: row.event_index as number,
          firstEventId: row.first_event_id,
          firstEventTimestamp: row.first_event_timestamp,
          startedAt: row.started_at as number,
          lastActivityAt: row.last_activity_at,
          lastUid: row.last_uid,
          ...(row.ended === 1 ? { ended: true } : {}),
        };
  return { userId: row.user_id, session, anonymous: row.anonymous === 1, pending: row.pending as SessionEndReason | null };
}

/** The values of `UNINDEXED`, in order. */
function unindexedValues(record: SharedSessionRecord, activity: number): unknown[] {
  const s = record.session;
  return [
    record.userId,
    s?.sessionId ?? null,
    s?.previousSessionId ?? null,
    s?.sessionIndex ?? null,
    s?.eventIndex ?? null,
    s?.firstEventId ?? null,
    s?.firstEventTimestamp ?? null,
    s?.startedAt ?? null,
    activity,
    s?.lastUid ?? null,
    record.anonymous ? 1 : 0,
    record.pending,
  ];
}
