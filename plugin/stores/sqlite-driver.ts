import { createRequire } from 'node:module';
import { SessionStoreBusyError } from './session-store.js';

/** The parts of a better-sqlite3 statement this package uses (its own types stay out of ours: it is an optional peer). */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  pluck(on?: boolean): SqliteStatement;
}

/** The parts of a better-sqlite3 `Database` this package uses. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { immediate(...args: A): R };
  close(): void;
  readonly inTransaction: boolean;
}

type DatabaseClass = new (file: string, options?: { timeout?: number; fileMustExist?: boolean; readonly?: boolean }) => SqliteDatabase;

/** The version range this package is tested with; 13.x needs Node 22. */
const BETTER_SQLITE3_INSTALL = 'npm install better-sqlite3@12';

/**
 * better-sqlite3, loaded (once per process) by the first store's constructor, with its native binary, so a
 * missing package or binary is the constructor's error. It is an optional peer dependency (a native module,
 * compiled on install when no prebuilt binary can be downloaded): apps that never use SQLite never install
 * it. CommonJS, so a synchronous require works.
 */
export function loadBetterSqlite3(): { Database: DatabaseClass; path: string } {
  return (loaded ??= loadDriver());
}

let loaded: { Database: DatabaseClass; path: string } | undefined;

function loadDriver(): { Database: DatabaseClass; path: string } {
  const require = createRequire(import.meta.url);
  let Database: DatabaseClass;
  try {
    Database = require('better-sqlite3') as DatabaseClass;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw binaryError(error);
    throw new Error(`snowplow-client-session: SqliteSessionStore needs the \`better-sqlite3\` package (an optional peer dependency): ${BETTER_SQLITE3_INSTALL}`, { cause: error });
  }
  try {
    new Database(':memory:').close(); // better-sqlite3 loads its native binary with the first database
  } catch (error) {
    throw binaryError(error);
  }
  return { Database, path: require.resolve('better-sqlite3') };
}

/** The native part is missing or unusable: an install script that did not run, or a build for another Node. */
function binaryError(cause: unknown): Error {
  return new Error(
    "snowplow-client-session: SqliteSessionStore cannot load better-sqlite3's native binary: its install script did not run (npm 12 runs it only where the app's package.json allows it: npm approve-scripts better-sqlite3 && npm rebuild better-sqlite3), or it was built for another Node version (npm rebuild better-sqlite3)",
    { cause },
  );
}

/** SQLite's result code of a failure (`SQLITE_BUSY`, `SQLITE_FULL`, …), or a file-system code. */
export function sqliteCode(error: unknown): string {
  return typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
}

const isBusy = (error: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(sqliteCode(error));

/** A page of a corrupt file, or a file that is not a database (past its header). */
export const isCorrupt = (error: unknown) => /^SQLITE_(CORRUPT|NOTADB)/.test(sqliteCode(error));

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `attempt` until it does not fail for another process's lock, for at most `waitMs` in all. Between
 * tries the thread sleeps 50 µs, doubling up to 2 ms (`Atomics.wait`), rather than SQLite's own busy
 * handler, whose first sleep is a whole millisecond and whose steps grow to 100 ms. `waitMs` 0: one try.
 * Throws `SessionStoreBusyError` when the time is up.
 */
export function withBusyRetry<T>(attempt: () => T, waitMs: number, what: string): T {
  const deadline = performance.now() + waitMs;
  let pause = 0.05;
  for (;;) {
    try {
      return attempt();
    } catch (error) {
      if (!isBusy(error)) throw error;
      const left = deadline - performance.now();
      if (left <= 0) throw new SessionStoreBusyError(`snowplow-client-session: ${what}: another process holds the database's write lock (waited ${waitMs} ms, SqliteSessionStore option busyTimeout)`, { cause: error });
      Atomics.wait(sleeper, 0, 0, Math.min(pause, left));
      pause = Math.min(pause * 2, 2);
    }
  }
}
