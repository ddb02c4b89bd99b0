import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LOG } from '@snowplow/tracker-core';
import type { SessionState } from '../session/state.js';
import { readStoredSession } from '../session/stored-session.js';
import { describeError } from '../util/describe-error.js';
import { LowdbSessionStore } from './lowdb-session-store.js';
import { SessionStoreForeignFileError } from './session-document.js';
import {
  SessionStoreBusyError,
  SessionStoreUnavailableError,
  STORAGE_MECHANISMS,
  type RecordTransaction,
  type SharedSessionRecord,
  type StorageMechanism,
  type SyncSessionStore,
} from './session-store.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { loadBetterSqlite3, sqliteCode, withBusyRetry, type SqliteDatabase } from './sqlite-driver.js';
import { DEFAULT_KEY, recordOf, SessionRows, type Row } from './sqlite-records.js';
import { inspectFile, isCorruptOpen, moveAside, prepareSchema, SESSIONS_TABLE } from './sqlite-schema.js';

export interface SqliteSessionStoreOptions {
  /** The database file; its folder is created (mode 0700) when missing, the file with mode 0600. */
  file: string;
  /**
   * Milliseconds an event may wait for another process's write lock before it is tracked from memory
   * (the event loop waits meanwhile: keep it small). While the lock stays held, later events do not wait.
   * Default 100.
   */
  busyTimeout?: number;
  /**
   * SQLite's `synchronous` level in WAL mode: `NORMAL` (default; a killed process loses nothing committed,
   * an operating-system crash or power loss may lose the last transactions) or `FULL` (an fsync per
   * transaction: nothing committed is lost even then).
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * The most event indexes a process reserves for one key at once (blocks grow 1, 2, 4… during bursts).
   * `1` is a transaction per event: indexes contiguous and in time order across processes, at a higher
   * cost. Default 64.
   */
  indexBlock?: number;
  /** How many keys' records each ClientSession keeps in memory (the least recently used go first). Default 10000. */
  cacheSize?: number;
  /** Reported in the entity. Default `SQLITE`. */
  storageMechanism?: StorageMechanism;
  /** Where warnings about the file go (a corrupt database moved aside). Default: tracker-core's logger. */
  logger?: { warn(message: string): void };
}

/** What `importLowdb` did. */
export interface LowdbImport {
  /** Records written (the default session counts as one). */
  imported: number;
  /** Keys the database already had: its record is kept. */
  kept: number;
  /** Records of the lowdb file that were unusable (their userId is imported when legible). */
  unusable: number;
}

const TRANSIENT = /^(EACCES|EPERM|EROFS|ENOSPC|EDQUOT|EIO|SQLITE_CANTOPEN|SQLITE_READONLY|SQLITE_FULL|SQLITE_IOERR|SQLITE_BUSY|SQLITE_LOCKED)/;

/**
 * Sessions in a SQLite database (better-sqlite3, WAL), shared by every process of one host that opens the
 * same file. Nothing is read at start-up: the plugin reads a key's record when an event needs it and makes
 * each decision that other processes must see in one write transaction, synchronously (`access: 'sync'`).
 */
export class SqliteSessionStore implements SyncSessionStore {
  readonly access = 'sync';
  readonly storageMechanism: StorageMechanism;
  readonly file: string;
  readonly indexBlock: number;
  readonly cacheSize: number;
  readonly busyTimeout: number;
  readonly #synchronous: 'NORMAL' | 'FULL';
  readonly #logger: { warn(message: string): void };
  readonly #driver: ReturnType<typeof loadBetterSqlite3>;
  #db: SqliteDatabase | undefined;
  #rows: SessionRows | undefined;
  #run: ((body: (tx: RecordTransaction) => unknown) => unknown) | undefined;
  #checkpointer: SqliteCheckpointer | undefined;
  #closed = false;

  constructor(options: SqliteSessionStoreOptions) {
    if (typeof options?.file !== 'string' || options.file.trim() === '') {
      throw new TypeError('snowplow-client-session: SqliteSessionStore option `file` must be a non-empty path string');
    }
    this.file = resolve(options.file);
    this.busyTimeout = whole('busyTimeout', options.busyTimeout ?? 100, 0, 'milliseconds');
    this.indexBlock = whole('indexBlock', options.indexBlock ?? 64, 1, 'event indexes');
    this.cacheSize = whole('cacheSize', options.cacheSize ?? 10_000, 1, 'keys');
    const synchronous = options.synchronous ?? 'NORMAL';
    if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
      throw new RangeError(`snowplow-client-session: SqliteSessionStore option \`synchronous\` must be 'NORMAL' or 'FULL', got ${JSON.stringify(synchronous)}`);
    }
    this.#synchronous = synchronous;
    const mechanism = options.storageMechanism ?? 'SQLITE';
    if (!STORAGE_MECHANISMS.includes(mechanism)) {
      throw new RangeError(`snowplow-client-session: SqliteSessionStore option \`storageMechanism\` must be one of ${STORAGE_MECHANISMS.join(', ')}`);
    }
    this.storageMechanism = mechanism;
    this.#logger = options.logger ?? LOG;
    this.#driver = loadBetterSqlite3();
  }

  open(): void {
    if (this.#db !== undefined) return;
    if (this.#closed) throw new Error(`snowplow-client-session: the session database ${this.file} is closed`);
    try {
      this.#openFile();
    } catch (error) {
      if (!TRANSIENT.test(sqliteCode(error)) && !(error instanceof SessionStoreBusyError)) throw error;
      throw new SessionStoreUnavailableError(`snowplow-client-session: cannot open the session database ${this.file} now: ${describeError(error)}`, { cause: error });
    }
  }

  changeCount(): number {
    const rows = this.#use();
    return withBusyRetry(() => rows.dataVersion(), this.busyTimeout, 'a session read');
  }

  readRecord(key: string | undefined): SharedSessionRecord | null {
    const rows = this.#use();
    return withBusyRetry(() => rows.get(key), this.busyTimeout, 'a session read');
  }

  transact<T>(body: (tx: RecordTransaction) => T, wait: boolean): T {
    this.#use();
    return withBusyRetry(() => this.#run!(body), wait ? this.busyTimeout : 0, 'a session write') as T;
  }

  /**
   * The idle index lists a key at an activity that may be older than its own (see SessionRows): keys found
   * listed behind their activity are listed again at it, so the next query passes them by.
   */
  idleKeys(before: number, limit: number, from: number): Array<{ key: string | undefined; lastActivityAt: number }> {
    const rows = this.#use();
    const found = withBusyRetry(() => rows.idle(before, from, limit), 0, 'the idle sessions query');
    const behind = found.filter((row) => row.last_activity_at > row.listed_activity_at).map((row) => row.key);
    if (behind.length > 0) this.transact(() => rows.relist(behind), false);
    return found.map((row) => ({ key: row.key === DEFAULT_KEY ? undefined : row.key, lastActivityAt: row.listed_activity_at }));
  }

  pruneIdle(before: number, limit: number): number {
    const rows = this.#use();
    return this.transact(() => rows.prune(before, limit), false);
  }

  getSession(key?: string): SessionState | null {
    this.open();
    return this.readRecord(key)?.session ?? null;
  }

  /** Writes `session` as the key's session (the C++ tracker's `set`); the plugin itself decides in transactions instead. */
  setSession(session: SessionState, key?: string): void {
    this.open();
    this.transact((tx) => {
      const record = tx.read(key);
      tx.write(key, { userId: session.userId, session, anonymous: record?.anonymous ?? false, pending: record?.pending ?? null });
    }, true);
  }

  deleteSession(key?: string): void {
    this.open();
    this.transact((tx) => tx.write(key, null), true);
  }

  /**
   * Imports the sessions of a lowdb session file (`LowdbSessionStore`), in one transaction: all of them or,
   * if the process is interrupted, none. Each key's `userId` and session continue (event indexes after the
   * file's reservations, so none repeats). A key this database already has keeps its record here. The
   * lowdb file must not be in use (its lock is taken while it is read) and is left as it was.
   */
  async importLowdb(file: string): Promise<LowdbImport> {
    const lowdb = new LowdbSessionStore({ file, logger: this.#logger });
    const entries: Array<[string | undefined, unknown]> = [];
    try {
      entries.push([undefined, await lowdb.getSession()], ...(await lowdb.getSessions()));
    } finally {
      await lowdb.close();
    }
    this.open();
    const outcome: LowdbImport = { imported: 0, kept: 0, unusable: 0 };
    this.transact((tx) => {
      for (const [key, raw] of entries) {
        if (raw === null || raw === undefined) continue;
        const stored = readStoredSession(raw);
        if (stored.problem !== null) outcome.unusable++;
        if (stored.userId === null) continue;
        if (tx.read(key) !== null) {
          outcome.kept++;
          continue;
        }
        tx.write(key, { userId: stored.userId, session: stored.state, anonymous: false, pending: null });
        outcome.imported++;
      }
    }, true);
    return outcome;
  }

  /** Stops the checkpointer thread and closes the database (the last process to close folds the WAL in). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#checkpointer?.stop();
    this.#db?.close();
    this.#db = undefined;
  }

  #use(): SessionRows {
    this.open();
    return this.#rows!;
  }

  /** Creates or checks the file, then the database; a corrupt database of this store is moved aside once. */
  #openFile(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const found = inspectFile(this.file);
    if (!found.exists) closeSync(openSync(this.file, 'a', 0o600));
    const inode = statSync(this.file).ino;
    const db = new this.#driver.Database(this.file, { timeout: 0 });
    try {
      prepareSchema(db, this.file, this.busyTimeout, this.#synchronous);
    } catch (error) {
      const salvaged = found.ours && isCorruptOpen(error) ? salvageDefault(db) : undefined;
      db.close();
      if (salvaged === undefined) {
        if (isCorruptOpen(error)) throw new SessionStoreForeignFileError(this.file, `a SQLite database that cannot be read: ${describeError(error)}`, 'SqliteSessionStore');
        throw error;
      }
      const aside = moveAside(this.file, inode);
      const kept = salvaged === null ? '' : ` (keeping userId ${salvaged.userId})`;
      this.#logger.warn(`snowplow-client-session: the session database ${this.file} is unusable: ${describeError(error)}; moved it to ${aside} and started afresh${kept}`);
      this.#openFile();
      if (salvaged !== null) this.transact((tx) => tx.read(undefined) === null && tx.write(undefined, salvaged), true);
      return;
    }
    this.#start(db);
  }

  #start(db: SqliteDatabase): void {
    db.pragma('wal_autocheckpoint = 0'); // the checkpointer thread does it, off the event loop
    db.pragma('journal_size_limit = 67108864');
    const rows = new SessionRows(db);
    this.#run = db.transaction((body: (tx: RecordTransaction) => unknown) => {
      rows.begin();
      return body(rows.tx);
    }).immediate;
    this.#rows = rows;
    this.#db = db;
    this.#checkpointer = new SqliteCheckpointer(this.#driver.path, this.file, () => db.pragma('wal_autocheckpoint = 1000'));
  }
}

/** The default session's identity from a corrupt database, when its row can still be read (`null`: it cannot). */
function salvageDefault(db: SqliteDatabase): SharedSessionRecord | null {
  try {
    const row = db.prepare(`SELECT * FROM ${SESSIONS_TABLE} WHERE key = ''`).get() as Row | undefined;
    const stored = row === undefined ? null : readStoredSession(recordOf(row).session ?? { userId: row.user_id });
    if (stored?.userId == null) return null;
    const session = stored.state === null ? null : { ...stored.state, ended: true };
    return { userId: stored.userId, session, anonymous: false, pending: null };
  } catch {
    return null;
  }
}

function whole(name: string, value: unknown, min: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`snowplow-client-session: SqliteSessionStore option \`${name}\` must be a whole number of ${unit} >= ${min}, got ${String(value)}`);
  }
  return value;
}
