import { closeSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { SessionStoreForeignFileError } from './session-document.js';
import { isCorrupt, withBusyRetry, type SqliteDatabase } from './sqlite-driver.js';

/** The schema this version writes; a later release that changes it adds a step to `MIGRATIONS`. */
const SCHEMA_VERSION = 2;
export const SESSIONS_TABLE = 'snowplow_client_sessions';
const META_TABLE = 'snowplow_client_session_meta';
const IDLE_INDEX = 'snowplow_client_sessions_idle';
const OWN_NAMES = new Set([SESSIONS_TABLE, META_TABLE, IDLE_INDEX]);
const HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * One row per key (`''` is the default session). `event_index` is the highest index handed out to any
 * process. The index serves the checker's two queries: live sessions idle past a timeout, and records
 * idle past the retention. It lists each key at `listed_activity_at`, which is `last_activity_at` as of the
 * key's last listing and never later (version 2: writes that only move a live session's activity leave the
 * index alone; see sqlite-records.ts).
 */
const SCHEMA = `
CREATE TABLE ${META_TABLE} (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE ${SESSIONS_TABLE} (
  key TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  session_id TEXT,
  previous_session_id TEXT,
  session_index INTEGER,
  event_index INTEGER,
  first_event_id TEXT,
  first_event_timestamp TEXT,
  started_at INTEGER,
  last_activity_at INTEGER NOT NULL,
  last_uid TEXT,
  ended INTEGER NOT NULL DEFAULT 0,
  anonymous INTEGER NOT NULL DEFAULT 0,
  pending TEXT,
  listed_activity_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ${IDLE_INDEX} ON ${SESSIONS_TABLE} (ended, listed_activity_at);
INSERT INTO ${META_TABLE} (name, value) VALUES ('format', 'snowplow-client-session'), ('schema_version', '${SCHEMA_VERSION}');
`;

/** Steps from each older schema version to the next, each run in the transaction that opens the file. */
const MIGRATIONS: Record<number, string> = {
  // 1 → 2: the idle index lists keys at `listed_activity_at` instead of `last_activity_at`.
  1: `
DROP INDEX ${IDLE_INDEX};
ALTER TABLE ${SESSIONS_TABLE} ADD COLUMN listed_activity_at INTEGER NOT NULL DEFAULT 0;
UPDATE ${SESSIONS_TABLE} SET listed_activity_at = last_activity_at;
CREATE INDEX ${IDLE_INDEX} ON ${SESSIONS_TABLE} (ended, listed_activity_at);
`,
};

/** A database of this store whose pages cannot be read: moved aside. */
export class CorruptDatabaseError extends Error {}

/**
 * What is at `path` before SQLite touches it: nothing (or an empty file, which SQLite takes as a new
 * database), a SQLite database, or something else, which is refused. Also whether page 1 names this
 * store's tables, which tells a corrupt database of this store from someone else's.
 */
export function inspectFile(path: string): { exists: boolean; ours: boolean } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, ours: false };
    throw error;
  }
  try {
    const head = Buffer.alloc(65536);
    const bytes = readSync(fd, head, 0, head.length, 0);
    if (bytes === 0) return { exists: false, ours: false };
    if (bytes < HEADER.length || !head.subarray(0, HEADER.length).equals(HEADER)) {
      throw new SessionStoreForeignFileError(path, 'it is not a SQLite database', 'SqliteSessionStore');
    }
    return { exists: true, ours: head.subarray(0, bytes).includes(SESSIONS_TABLE) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Sets the connection's `synchronous`, checks that the database holds this store's tables only (refusing
 * anything else before a byte is written), creates them in a new database, and brings an older schema up to
 * this version. Reads the first row of the table and of its index, which finds a corrupt database's broken
 * root pages.
 */
export function prepareSchema(db: SqliteDatabase, path: string, busyTimeout: number, synchronous: 'NORMAL' | 'FULL'): void {
  // Another process may be switching the new file to WAL, creating the tables, or recovering the WAL of a
  // killed process (SQLITE_BUSY_RECOVERY, even for a read) at this moment: wait for it. Every statement of
  // the open is in here, the first pragma too: any of them can meet that lock.
  withBusyRetry(
    () => {
      db.pragma(`synchronous = ${synchronous}`);
      checkAndCreate(db, path);
      db.prepare(`SELECT key FROM ${SESSIONS_TABLE} LIMIT 1`).get();
      db.prepare(`SELECT key FROM ${SESSIONS_TABLE} WHERE ended = 0 ORDER BY ended, listed_activity_at LIMIT 1`).get();
    },
    busyTimeout,
    'opening the session database',
  );
}

function checkAndCreate(db: SqliteDatabase, path: string): void {
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").pluck().all() as string[]);
  const foreign = names.filter((name) => !OWN_NAMES.has(name));
  if (foreign.length > 0) {
    throw new SessionStoreForeignFileError(path, `a database with other tables: ${foreign.slice(0, 5).join(', ')}`, 'SqliteSessionStore');
  }
  db.pragma('journal_mode = WAL');
  db.transaction(() => migrate(db, path)).immediate();
}

function migrate(db: SqliteDatabase, path: string): void {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(META_TABLE) !== undefined;
  if (!hasMeta) {
    db.exec(SCHEMA);
    return;
  }
  const version = Number(db.prepare(`SELECT value FROM ${META_TABLE} WHERE name = 'schema_version'`).pluck().get());
  if (!Number.isInteger(version) || version < 1) throw new CorruptDatabaseError(`its schema_version is ${String(version)}`);
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `snowplow-client-session: the session database ${path} has schema version ${version}, written by a newer release of this package; this release reads up to version ${SCHEMA_VERSION}. Upgrade snowplow-client-session in every process that shares the file.`,
    );
  }
  for (let from = version; from < SCHEMA_VERSION; from++) db.exec(MIGRATIONS[from]!);
  if (version < SCHEMA_VERSION) db.prepare(`UPDATE ${META_TABLE} SET value = ? WHERE name = 'schema_version'`).run(String(SCHEMA_VERSION));
}

/** Whether an error while opening means a corrupt database (as opposed to a foreign file or an I/O failure). */
export function isCorruptOpen(error: unknown): boolean {
  return error instanceof CorruptDatabaseError || isCorrupt(error);
}

/**
 * Moves a corrupt database (and its WAL) aside to `<file>.corrupt-<timestamp>`, unless another process has
 * already replaced it (the file at `path` is no longer the one that was found corrupt). Returns the new name.
 */
export function moveAside(path: string, inode: number): string {
  const aside = `${path}.corrupt-${Date.now()}`;
  if (statSync(path).ino !== inode) return aside; // another process moved it first and made a new database
  renameSync(path, aside);
  for (const suffix of ['-wal', '-shm']) {
    try {
      if (suffix === '-wal') renameSync(path + suffix, aside + suffix);
      else rmSync(path + suffix, { force: true });
    } catch {
      // no WAL to keep
    }
  }
  return aside;
}
