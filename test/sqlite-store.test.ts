import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent, trackerCore, type PayloadBuilder } from '@snowplow/tracker-core';
import { createClientSession, SessionStoreForeignFileError, SqliteSessionStore, type ClientSession, type ClientSessionEntity, type SqliteSessionStoreOptions } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { APPLICATION_BACKGROUND_SCHEMA, APPLICATION_FOREGROUND_SCHEMA, CLIENT_SESSION_SCHEMA, SESSION_END_SCHEMA, SESSION_START_SCHEMA } from '../plugin/schema-uris.js';
import { eventOf, manualClock, recordingLogger, sessionOf, withTempDir, type Payload } from './helpers/capture.js';

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
  /** Tracks `event` (a struct event by default) under `key`; returns its entity. */
  track(key?: string, event?: PayloadBuilder): ClientSessionEntity;
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
  const track = (key?: string, event: PayloadBuilder = buildStructEvent({ category: 'c', action: 'a', label: key })) => {
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

/**
 * Debian's sqlite3 shell on `file` running `script`, resolved once it has printed `locked`. The shell waits
 * up to 10 s for a lock another connection holds (`.timeout`: the checker's short transactions among them),
 * and is killed if it fails, so no test leaves it running.
 */
async function sqliteShell(file: string, script: string, last: string): Promise<{ exited: Promise<void>; end(): void }> {
  const shell = spawn('sqlite3', [file], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => shell.on('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      shell.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('locked') && resolve());
      shell.stderr.setEncoding('utf8').on('data', (d: string) => reject(new Error(d)));
      void exited.then(() => reject(new Error('sqlite3 exited before it held the lock')));
      shell.stdin.write(`.timeout 10000\n${script}SELECT 'locked';\n`);
    });
  } catch (error) {
    shell.kill('SIGKILL');
    await exited;
    throw error;
  }
  return { exited, end: () => shell.stdin.end(last) };
}

/** Another process holding the database's write lock: the shell inside BEGIN EXCLUSIVE until `release()`. */
async function holdWriteLock(file: string): Promise<{ release(): Promise<void> }> {
  const shell = await sqliteShell(file, 'BEGIN EXCLUSIVE;\n', 'COMMIT;\n');
  return { release: async () => { shell.end(); await shell.exited; } };
}

/**
 * Another process that keeps every other connection out for `ms`, as a process recovering a killed
 * process's WAL does: the shell in exclusive locking mode (even reads get SQLITE_BUSY), which lets go when it
 * exits. Resolves once it holds the lock; `exited` settles when it has let go.
 */
async function shutOut(file: string, ms: number): Promise<{ exited: Promise<void> }> {
  const shell = await sqliteShell(file, 'PRAGMA locking_mode = EXCLUSIVE;\nBEGIN EXCLUSIVE;\n', `.shell sleep ${ms / 1000}\n.quit\n`);
  shell.end();
  return shell;
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

  it("the plugin's options work unchanged: sessionKey keys each event by its payload, sessionEvents tracks each session_start and session_end once across processes; storageMechanism is SQLITE", () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const sent: Payload[] = [];
      const processes: Array<{ session: ClientSession; core: ReturnType<typeof trackerCore> }> = [];
      for (let i = 0; i < 2; i++) {
        const session = await createClientSession({
          store: new SqliteSessionStore({ file }),
          now: clock.now,
          foregroundTimeout: 60,
          checkInterval: 0,
          sessionEvents: true,
          sessionKey: (payload) => (typeof payload.se_la === 'string' ? payload.se_la : undefined),
        });
        processes.push({ session, core: trackerCore({ corePlugins: [session.plugin], callback: (pb) => void sent.push(pb.build() as Payload) }) });
      }
      const track = (i: number, user: string) => processes[i % 2]!.core.track(buildStructEvent({ category: 'c', action: 'a', label: user }));
      for (let i = 0; i < 4; i++) {
        track(i, 'alice');
        track(i + 1, 'bob');
      }
      clock.advance(61_000); // past the timeout: alice's next event, in either process, rotates her session once
      track(0, 'alice');
      track(1, 'alice');
      const entities = sent.map(sessionOf);
      for (const e of entities) expect(validator.validateData(CLIENT_SESSION_SCHEMA, e).valid).toBe(true);
      expect(entities.every((e) => e.storageMechanism === 'SQLITE')).toBe(true);
      const struct = sent.filter((p) => p.e === 'se');
      const sessionsOf = (user: string) => [...new Set(struct.filter((p) => p.se_la === user).map((p) => sessionOf(p).sessionId))];
      expect([sessionsOf('alice').length, sessionsOf('bob').length]).toEqual([2, 1]);
      expect(sessionsOf('alice')).not.toContain(sessionsOf('bob')[0]);
      const lifecycle = (schema: string) => sent.map(eventOf).filter((e) => e?.schema === schema).map((e) => e!.data);
      expect(lifecycle(SESSION_START_SCHEMA).map((d) => d.sessionId).sort()).toEqual([...sessionsOf('alice'), ...sessionsOf('bob')].sort());
      expect(lifecycle(SESSION_END_SCHEMA)).toEqual([expect.objectContaining({ sessionId: sessionsOf('alice')[0], reason: 'timeout', eventCount: 4 })]);
      for (const { session } of processes) await session.close();
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
      let reads = 0; // point reads, and reads in a transaction (an event without unused indexes reads there only)
      const read = store.readRecord.bind(store);
      store.readRecord = (key) => (reads++, read(key));
      const transact = store.transact.bind(store);
      store.transact = (body, wait) => transact((tx) => body({ read: (key) => (reads++, tx.read(key)), write: tx.write }), wait);
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
        // The store's two queries (sqlite-records.ts): a range of the index, never a scan of the table.
        const plans = [
          'SELECT key, listed_activity_at, last_activity_at FROM snowplow_client_sessions WHERE ended = 0 AND listed_activity_at < 1 AND listed_activity_at >= 0 ORDER BY ended, listed_activity_at LIMIT 64',
          "SELECT key FROM snowplow_client_sessions WHERE ended IN (0, 1) AND listed_activity_at < 1 AND key <> '' ORDER BY ended, listed_activity_at LIMIT 64",
        ].map((sql) => JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all()));
        for (const plan of plans) expect(plan).toMatch(/SEARCH snowplow_client_sessions USING (COVERING )?INDEX snowplow_client_sessions_idle \(ended=\? AND listed_activity_at/);
        expect(plans.join()).not.toMatch(/SCAN|TEMP B-TREE/);
      } finally {
        db.close();
      }
      for (const c of checkers) await c.session.close();
    }));
});

describe('SqliteSessionStore: load() and the idle index', () => {
  it("load(key, reserve) for many keys in one turn reserves every request's indexes in one transaction; their events write nothing, and still see another process's calls", () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const [a, b] = [await app(file, clock), await app(file, clock)];
      const keys = Array.from({ length: 10 }, (_, i) => `user-${i}`);
      for (const key of keys) a.track(key); // index 1 of each key's session
      let transactions = 0;
      const transact = a.store.transact.bind(a.store);
      a.store.transact = (body, wait) => (transactions++, transact(body, wait));
      await Promise.all(keys.map((key) => a.session.load(key, 3)));
      expect(transactions).toBe(1); // the ten loads of one turn share one transaction
      b.track('user-1'); // another process writes between the load and the request's events
      for (const key of keys) for (let i = 0; i < 3; i++) a.track(key);
      expect(transactions).toBe(1); // every event took an index the load reserved
      expect(a.entities.filter((e) => e.eventIndex! > 1).map((e) => e.eventIndex)).toEqual(keys.flatMap(() => [2, 3, 4]));
      expect(b.entities.map((e) => e.eventIndex)).toEqual([5]); // after a's reservation
      b.session.startNewSession('user-0');
      await a.session.load('user-0', 2); // the session must end first: the load reserves nothing, the event decides
      a.track('user-0');
      a.track('user-0');
      expect(a.entities.slice(-2).map((e) => [e.sessionIndex, e.eventIndex])).toEqual([[2, 1], [2, 2]]);
      expect(transactions).toBe(3); // the load's, and the event's that opened session 2 with both indexes
      clock.advance(61_000); // past the timeout: loads reserve nothing, each key's first event opens its next session
      await Promise.all(keys.map((key) => a.session.load(key, 2)));
      for (const key of keys) for (let i = 0; i < 2; i++) a.track(key);
      expect(transactions).toBe(4 + keys.length);
      expectValidAndUnique([...a.entities, ...b.entities]);
      expect(a.ends.map(([, reason]) => reason).sort()).toEqual(['manual', ...keys.map(() => 'timeout')]);
      expect(a.starts).toHaveLength(2 * keys.length + 1); // each key's first session and its next, and user-0's manual one
      expect(new Set(a.starts).size).toBe(a.starts.length);
      for (const s of [a, b]) await s.session.close();
    }));

  it("the request adapters load the request's key with reserve: withSession's events take the indexes its load reserved, in one transaction", () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const a = await app(join(dir, 'sessions.db'), clock);
      a.track('user-1'); // the key's session, index 1
      let transactions = 0;
      const transact = a.store.transact.bind(a.store);
      a.store.transact = (body, wait) => (transactions++, transact(body, wait));
      const request = new Request('http://127.0.0.1/checkout');
      await a.session.withSession(request, () => { for (let i = 0; i < 3; i++) a.track(); }, { keyOf: () => 'user-1', reserve: 3 });
      expect(a.entities.slice(-3).map((e) => e.eventIndex)).toEqual([2, 3, 4]);
      expect(transactions).toBe(1); // the load's: the request's three events wrote nothing
      await a.session.close();
    }));

  it('a foreground/background switch inside the timeouts takes no transaction; one past the background timeout ends the session once', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const a = await app(join(dir, 'sessions.db'), clock);
      const background = () => buildSelfDescribingEvent({ event: { schema: APPLICATION_BACKGROUND_SCHEMA, data: { backgroundIndex: 1 } } });
      const foreground = () => buildSelfDescribingEvent({ event: { schema: APPLICATION_FOREGROUND_SCHEMA, data: { foregroundIndex: 1 } } });
      a.track('k');
      await a.session.load('k', 4); // the next events' indexes are held: any transaction now is the switches'
      let transactions = 0;
      const transact = a.store.transact.bind(a.store);
      a.store.transact = (body, wait) => (transactions++, transact(body, wait));
      a.track('k', background());
      a.track('k', foreground()); // (activity moved on by more than a second would be written: the events' own write)
      expect(transactions).toBe(0);
      a.track('k', background());
      clock.advance(6 * 60_000); // past the 5 min background timeout
      a.track('k', foreground());
      expect(a.ends.map(([, reason]) => reason)).toEqual(['backgroundTimeout']);
      expect(a.entities.map((e) => [e.sessionIndex, e.eventIndex])).toEqual([[1, 1], [1, 2], [1, 3], [1, 4], [2, 1]]);
      await a.session.close();
    }));

  it('a write that only moves a live session on leaves its place in the idle index; the checker lists it again at its activity and ends only sessions that are idle', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const start = clock.now();
      const a = await app(file, clock);
      a.track('k'); // index 1: the session opens, listed at its start
      clock.advance(30_000);
      a.track('k'); // index 2: its own transaction, which only moves the session on
      const db = new Database(file);
      const row = () => db.prepare("SELECT listed_activity_at AS listed, last_activity_at AS last, ended FROM snowplow_client_sessions WHERE key = 'k'").get();
      try {
        expect(row()).toEqual({ listed: start, last: start + 30_000, ended: 0 });
        clock.advance(40_000); // listed 70 s ago, active 40 s ago: the 60 s timeout has not passed
        const checker = await app(file, clock, {}, { checkInterval: 0.02 });
        checker.track('trigger'); // a live session starts its checker
        for (let round = 0; round < 500 && (row() as { listed: number }).listed === start; round++) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(row()).toEqual({ listed: start + 30_000, last: start + 30_000, ended: 0 }); // listed again, not ended
        expect(checker.ends).toEqual([]);
        clock.advance(21_000); // now 61 s idle
        for (let round = 0; round < 500 && checker.ends.length === 0; round++) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(checker.ends).toEqual([[a.entities[0]!.sessionId, 'timeout']]);
        expect(row()).toMatchObject({ ended: 1 });
        await checker.session.close();
      } finally {
        db.close();
      }
      await a.session.close();
    }));

  it('a database of schema version 1 is brought to version 2 when it is opened: its sessions continue, listed in the new index', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const db = new Database(file);
      db.exec(`
        PRAGMA journal_mode = WAL;
        CREATE TABLE snowplow_client_session_meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE snowplow_client_sessions (key TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, session_id TEXT, previous_session_id TEXT,
          session_index INTEGER, event_index INTEGER, first_event_id TEXT, first_event_timestamp TEXT, started_at INTEGER,
          last_activity_at INTEGER NOT NULL, last_uid TEXT, ended INTEGER NOT NULL DEFAULT 0, anonymous INTEGER NOT NULL DEFAULT 0, pending TEXT) WITHOUT ROWID;
        CREATE INDEX snowplow_client_sessions_idle ON snowplow_client_sessions (ended, last_activity_at);
        INSERT INTO snowplow_client_session_meta (name, value) VALUES ('format', 'snowplow-client-session'), ('schema_version', '1');`);
      const insert = db.prepare('INSERT INTO snowplow_client_sessions VALUES (?, ?, ?, NULL, 2, 5, ?, ?, ?, ?, NULL, 0, 0, NULL)');
      const [userId, sessionId, firstEventId] = ['8f3e56a4-2c6b-4c1e-9a7d-3b2f1e0d9c8b', '0b5d8e2a-7f41-4c39-8a6e-5d2c1b0a9f8e', '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f'];
      insert.run('k', userId, sessionId, firstEventId, new Date(clock.now()).toISOString(), clock.now(), clock.now());
      insert.run('idle', userId, randomUUID(), randomUUID(), new Date(clock.now()).toISOString(), clock.now() - 1000, clock.now() - 1000);
      db.close();
      const a = await app(file, clock);
      expect(a.track('k')).toMatchObject({ userId, sessionId, sessionIndex: 2, eventIndex: 6 });
      const after = new Database(file);
      try {
        expect(after.prepare("SELECT value FROM snowplow_client_session_meta WHERE name = 'schema_version'").get()).toEqual({ value: '2' });
        expect(after.prepare("SELECT listed_activity_at AS listed, last_activity_at AS last FROM snowplow_client_sessions WHERE key = 'idle'").get()).toEqual({ listed: clock.now() - 1000, last: clock.now() - 1000 });
        expect(after.prepare("SELECT sql FROM sqlite_master WHERE name = 'snowplow_client_sessions_idle'").get()).toEqual({ sql: 'CREATE INDEX snowplow_client_sessions_idle ON snowplow_client_sessions (ended, listed_activity_at)' });
      } finally {
        after.close();
      }
      await a.session.close();
    }));
});

describe('SqliteSessionStore: a lock held by another process', () => {
  it('a process that starts while another keeps every connection out (a WAL being recovered after a crash) waits for it, then opens: the same userId, no outage', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const first = await app(file, clock);
      const before = first.track('k');
      await first.session.close();
      const holdMs = 300; // well inside busyTimeout: a start-up must wait it out, not give up at once
      const held = await shutOut(file, holdMs);
      const logger = recordingLogger();
      const second = await app(file, clock, { busyTimeout: 20 * holdMs }, { logger }); // starts while the shell holds the file
      const after = second.track('k'); // and tracks at once: the event waits for the file
      await held.exited;
      expect(after.userId).toBe(before.userId);
      expect([after.sessionId, after.eventIndex]).toEqual([before.sessionId, 2]);
      expect([...logger.warnings, ...logger.errors]).toEqual([]);
      await second.session.close();
    }));

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

  it('the checker meeting the lock ends its check quietly (another process is writing: no outage, no warning); events still wait for the lock', () =>
    withTempDir(async (dir) => {
      const clock = manualClock();
      const file = join(dir, 'sessions.db');
      const logger = recordingLogger();
      const a = await app(file, clock, { busyTimeout: 50 }, { logger, checkInterval: 0.02 });
      a.track('k'); // a live session starts the checker
      let busy = 0;
      const prune = a.store.pruneIdle.bind(a.store);
      a.store.pruneIdle = (before, limit) => {
        try {
          return prune(before, limit);
        } catch (error) {
          busy++;
          throw error;
        }
      };
      const lock = await holdWriteLock(file);
      for (let round = 0; round < 500 && busy < 3; round++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(busy).toBe(3); // three checks met the lock
      await lock.release();
      for (let i = 0; i < 3; i++) a.track('k');
      expect(a.entities.map((e) => e.eventIndex)).toEqual([1, 2, 3, 4]);
      expect([...logger.warnings, ...logger.errors]).toEqual([]);
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
      db.exec("UPDATE snowplow_client_session_meta SET value = '3' WHERE name = 'schema_version'");
      db.close();
      await expect(createClientSession({ store: new SqliteSessionStore({ file }), checkInterval: 0 })).rejects.toThrow(
        `the session database ${file} has schema version 3, written by a newer release of this package; this release reads up to version 2`,
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
