import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import { createClientSession, SessionStoreForeignFileError, SqliteSessionStore, type ClientSession, type ClientSessionEntity, type SqliteSessionStoreOptions } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { manualClock, recordingLogger, sessionOf, withTempDir } from './helpers/capture.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => {
  prepare(sql: string): { all(...p: unknown[]): unknown[]; get(...p: unknown[]): unknown; run(...p: unknown[]): unknown };
  exec(sql: string): void;
  close(): void;
};
const validator = new IgluValidator();
type Clock = ReturnType<typeof manualClock>;

interface App {
  session: ClientSession;
  store: SqliteSessionStore;
  entities: ClientSessionEntity[];
  starts: string[];
  ends: Array<[string, string]>;
  track(key?: string): ClientSessionEntity;
}

/** A ClientSession on its own SqliteSessionStore (its own connection, as another process has). */
async function app(file: string, clock: Clock, options: Partial<SqliteSessionStoreOptions> = {}, extra: Record<string, unknown> = {}): Promise<App> {
  const store = new SqliteSessionStore({ file, ...options });
  const starts: string[] = [];
  const ends: Array<[string, string]> = [];
  const session = await createClientSession({
    store,
    now: clock.now,
    foregroundTimeout: 60,
    checkInterval: 0,
    onSessionStart: (s) => void starts.push(s.sessionId),
    onSessionEnd: (s, reason) => void ends.push([s.sessionId, reason]),
    ...extra,
  });
  const entities: App['entities'] = [];
  const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void entities.push(sessionOf(pb.build() as Record<string, string>)) });
  const track = (key?: string) => {
    const event = buildStructEvent({ category: 'c', action: 'a', label: key });
    if (key === undefined) core.track(event);
    else session.run(key, () => core.track(event));
    return entities[entities.length - 1]!;
  };
  return { session, store, entities, starts, ends, track };
}

/** Every entity valid, and no (sessionId, eventIndex) twice. */
function expectValidAndUnique(entities: ClientSessionEntity[]): void {
  for (const e of entities) expect(validator.validateData(CLIENT_SESSION_SCHEMA, e).valid).toBe(true);
  const pairs = entities.filter((e) => e.eventIndex !== null).map((e) => `${e.sessionId}:${e.eventIndex}`);
  expect(new Set(pairs).size).toBe(pairs.length);
}

/** Another process holding the database's write lock: Debian's sqlite3 shell inside BEGIN EXCLUSIVE. */
async function holdWriteLock(file: string): Promise<{ release(): Promise<void> }> {
  const shell = spawn('sqlite3', [file], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => shell.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    shell.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('locked') && resolve());
    shell.stderr.setEncoding('utf8').on('data', (d: string) => reject(new Error(d)));
    shell.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  });
  return { release: async () => { shell.stdin.end('COMMIT;\n'); await exited; } };
}

describe('SqliteSessionStore: one session per key across processes', () => {
  it('two processes on one file: one rotation per timeout, reported once, one chain; startNewSession, setAnonymous and reset are seen by the other', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const [a, b] = [await app(file, clock), await app(file, clock)];
      for (let i = 0; i < 6; i++) [a, b][i % 2]!.track('alice');
      clock.advance(61_000); // past the 60 s timeout
      b.track('alice');
      a.track('alice');
      a.session.startNewSession('alice'); // in A: B's next event opens the session
      b.track('alice');
      a.track('alice');
      b.session.setAnonymous(true, 'alice');
      a.track('alice');
      expect(a.session.isAnonymous('alice')).toBe(true);
      a.session.reset('alice');
      b.track('alice');
      const all = [...a.entities, ...b.entities];
      expectValidAndUnique(all);
      const sessions = [...new Map(all.map((e) => [e.sessionId, e])).values()].sort((x, y) => x.sessionIndex - y.sessionIndex);
      expect(sessions.map((s) => s.sessionIndex)).toEqual([1, 1, 2, 3, 4]); // reset: session 1 of a new identity
      expect(sessions[0]!.userId).toBe(sessions[2]!.userId);
      expect(sessions[2]!.previousSessionId).toBe(sessions[0]!.sessionId);
      expect(sessions[3]!.previousSessionId).toBe(sessions[2]!.sessionId);
      expect(sessions[4]).toMatchObject({ userId: '00000000-0000-0000-0000-000000000000', previousSessionId: null }); // anonymous in both
      const reset = sessions.find((s) => s.sessionIndex === 1 && s.sessionId !== sessions[0]!.sessionId)!;
      expect(reset.userId).toBe('00000000-0000-0000-0000-000000000000'); // still anonymous: the flag survives reset
      const starts = [...a.starts, ...b.starts];
      expect(new Set(starts).size).toBe(starts.length);
      expect(starts).toHaveLength(5);
      expect([...a.ends, ...b.ends].map(([, reason]) => reason).sort()).toEqual(['anonymous', 'manual', 'reset', 'timeout']);
      await a.session.close();
      await b.session.close();
    }));

  it('indexBlock 1 (a transaction per event): contiguous indexes in time order across processes; blocks leave gaps, never repeats, and close() gives unused ones back', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const exact = [await app(join(dir, 'exact.db'), clock, { indexBlock: 1 }), await app(join(dir, 'exact.db'), clock, { indexBlock: 1 })];
      for (let i = 0; i < 40; i++) exact[Math.floor(Math.random() * 2)]!.track('k');
      const inOrder = [...exact[0]!.entities, ...exact[1]!.entities].sort((x, y) => x.eventIndex! - y.eventIndex!).map((e) => e.eventIndex);
      expect(inOrder).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const blocks = await app(join(dir, 'blocks.db'), clock);
      for (let i = 0; i < 10; i++) blocks.track('k'); // blocks of 1, 2, 4, 8: 15 reserved, 10 used
      await blocks.session.close(); // gives 11..15 back
      const again = await app(join(dir, 'blocks.db'), clock);
      expect(again.track('k').eventIndex).toBe(11);
      for (const s of [...exact, again]) await s.session.close();
    }));

  it('reads nothing at start-up, reads each key when needed, and keeps a bounded cache of keys', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const first = await app(file, clock);
      for (let i = 0; i < 20; i++) first.track(`user-${i}`);
      await first.session.close();
      const store = new SqliteSessionStore({ file, cacheSize: 5 });
      let reads = 0;
      const read = store.readRecord.bind(store);
      store.readRecord = (key) => (reads++, read(key));
      const session = await createClientSession({ store, now: clock.now, foregroundTimeout: 60, checkInterval: 0 });
      expect(reads).toBe(0);
      const core = trackerCore({ corePlugins: [session.plugin] });
      const track = (key: string) => session.run(key, () => core.track(buildStructEvent({ category: 'c', action: 'a' })));
      track('user-0');
      expect(reads).toBe(1);
      expect(session.getSessionContext('user-0')).toMatchObject({ sessionIndex: 1, eventIndex: 2 }); // continued from the file
      for (let i = 1; i < 10; i++) track(`user-${i}`);
      expect(session.getSessionContext('user-0')).toBeNull(); // evicted: only 5 keys are kept
      track('user-0');
      expect(reads).toBe(11);
      await session.close();
    }));

  it('the checker ends expired sessions once across processes and prunes idle keys, with indexed queries in bounded batches', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const keys = 150; // more than two of the checker's batches
      const writer = await app(file, clock);
      for (let i = 0; i < keys; i++) writer.track(`user-${i}`);
      writer.track();
      await writer.session.close();
      clock.advance(61_000);
      const checkers = [await app(file, clock, {}, { checkInterval: 0.02, retention: 3600 }), await app(file, clock, {}, { checkInterval: 0.02, retention: 3600 })];
      for (const c of checkers) c.track('trigger'); // a live session starts each checker
      clock.advance(61_000);
      const ended = () => checkers.flatMap((c) => c.ends);
      for (let round = 0; round < 500 && ended().length < keys + 2; round++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(ended()).toHaveLength(keys + 2); // every session once: the 150 keys, the default session and the trigger
      expect(new Set(ended().map(([id]) => id)).size).toBe(keys + 2);
      clock.advance(3_600_000);
      const db = new Database(file);
      try {
        for (let round = 0; round < 500 && (db.prepare('SELECT count(*) AS n FROM snowplow_client_sessions').get() as { n: number }).n > 1; round++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(db.prepare('SELECT key FROM snowplow_client_sessions').all()).toEqual([{ key: '' }]); // the default session is never pruned
        const plans = [
          "SELECT key FROM snowplow_client_sessions WHERE ended = 0 AND last_activity_at < 1 ORDER BY ended, last_activity_at LIMIT 64",
          "SELECT key FROM snowplow_client_sessions WHERE ended IN (0, 1) AND last_activity_at < 1 AND key <> '' ORDER BY ended, last_activity_at LIMIT 64",
        ].map((sql) => JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all()));
        for (const plan of plans) expect(plan).toMatch(/SEARCH snowplow_client_sessions USING (COVERING )?INDEX snowplow_client_sessions_idle/);
      } finally {
        db.close();
      }
      for (const c of checkers) await c.session.close();
    }));
});

describe('SqliteSessionStore: a lock held by another process', () => {
  it('track() waits busyTimeout once, then goes on from memory with one warning; afterwards the session continues without a repeat', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const logger = recordingLogger();
      const busyTimeout = 200;
      const a = await app(file, clock, { busyTimeout }, { logger });
      for (let i = 0; i < 4; i++) a.track('k'); // blocks of 1, 2 and 4 indexes: 5, 6 and 7 are left
      const lock = await holdWriteLock(file);
      const before = performance.now();
      for (let i = 0; i < 100; i++) a.track('k'); // the block's 3 indexes, then none (another process may use the next ones)
      const elapsed = performance.now() - before;
      expect(elapsed).toBeLessThan(10 * busyTimeout); // one wait of busyTimeout, not one per event (that would be 20 s)
      await lock.release();
      clock.advance(1000);
      for (let i = 0; i < 5; i++) a.track('k');
      expectValidAndUnique(a.entities);
      expect(new Set(a.entities.map((e) => e.sessionId)).size).toBe(1);
      const indexes = a.entities.map((e) => e.eventIndex);
      expect(indexes.filter((i) => i === null)).toHaveLength(100 - 3);
      expect(indexes.slice(-5).every((i) => i !== null && i > 7)).toBe(true);
      expect(logger.warnings.filter((w) => /cannot write the session database|writable again/.test(w))).toHaveLength(1);
      expect(logger.errors.filter((e) => /cannot write the session database/.test(e))).toHaveLength(1);
      await a.session.close();
    }));
});

describe('SqliteSessionStore: bad files', () => {
  it.each([
    ['a JSON file', Buffer.from(JSON.stringify({ name: 'my-app', version: '1.0.0' }))],
    ['random bytes', Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256))],
  ])('%s is refused with an error naming the file; nothing is written', (_name, content) =>
    withTempDir(async (dir) => {
      const file = join(dir, 'sessions.db');
      writeFileSync(file, content);
      const started = createClientSession({ store: new SqliteSessionStore({ file }), checkInterval: 0 });
      await expect(started).rejects.toThrow(SessionStoreForeignFileError);
      await expect(started).rejects.toThrow(`${file} is not a session file of this package (it is not a SQLite database); it is left untouched. Point SqliteSessionStore({ file })`);
      expect(readFileSync(file)).toEqual(content);
      expect(readdirSync(dir)).toEqual(['sessions.db']);
    }));

  it("a SQLite database with another application's tables is refused; nothing is written", () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'app.db');
      const db = new Database(file);
      db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders VALUES (1, 9.5);");
      db.close();
      const content = readFileSync(file);
      await expect(createClientSession({ store: new SqliteSessionStore({ file }), checkInterval: 0 })).rejects.toThrow(`(a database with other tables: orders)`);
      expect(readFileSync(file)).toEqual(content);
      expect(readdirSync(dir)).toEqual(['app.db']);
    }));

  it('a database written by a newer schema version is refused with what to do', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'sessions.db');
      await (await app(file, manualClock())).session.close();
      const db = new Database(file);
      db.exec("UPDATE snowplow_client_session_meta SET value = '2' WHERE name = 'schema_version'");
      db.close();
      await expect(createClientSession({ store: new SqliteSessionStore({ file }), checkInterval: 0 })).rejects.toThrow(
        `the session database ${file} has schema version 2, written by a newer release of this package; this release reads up to version 1`,
      );
    }));

  it.each([
    ['cut after its first page', (bytes: Buffer) => bytes.subarray(0, 4096)],
    ['garbage over its later pages', (bytes: Buffer) => Buffer.concat([bytes.subarray(0, 4096), Buffer.alloc(bytes.length - 4096, 0xa5)])],
  ])('a corrupt database of this store (%s) is moved aside with a warning, and the app goes on', (_name, corrupt) =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const first = await app(file, clock);
      for (let i = 0; i < 300; i++) first.track(`user-${i}`); // several pages
      await first.session.close();
      const damaged = corrupt(readFileSync(file));
      writeFileSync(file, damaged);
      const logger = recordingLogger();
      const next = await app(file, clock, { logger }, { logger });
      const entity = next.track('user-1');
      expect(entity).toMatchObject({ sessionIndex: 1, eventIndex: 1 });
      expectValidAndUnique(next.entities);
      const aside = readdirSync(dir).filter((f) => /^sessions\.db\.corrupt-\d+$/.test(f));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(dir, aside[0]!))).toEqual(damaged);
      expect(logger.warnings).toEqual([expect.stringMatching(new RegExp(`the session database ${file} is unusable: .*; moved it to ${file}\\.corrupt-\\d+ and started afresh`))]);
      await next.session.close();
    }));
});
