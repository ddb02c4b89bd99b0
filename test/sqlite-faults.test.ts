import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import { createClientSession, LowdbSessionStore, SqliteSessionStore, type ClientSessionEntity } from '../plugin/index.js';
import { writeLargeStore } from '../scripts/bench/large-store.js';
import { manualClock, recordingLogger, sessionOf, withTempDir } from './helpers/capture.js';
import { kill, startApp } from './helpers/processes.js';
import { withTmpfs } from './helpers/tmpfs.js';

const APP = fileURLToPath(new URL('./fixtures/sqlite-app-process.mjs', import.meta.url));
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => { prepare(sql: string): { get(): unknown }; close(): void };
const START_MS = 10_000;

async function sqliteApp(file: string, clock = manualClock(), logger = recordingLogger()) {
  const session = await createClientSession({ store: new SqliteSessionStore({ file, logger }), now: clock.now, logger, checkInterval: 0 });
  const entities: ClientSessionEntity[] = [];
  const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void entities.push(sessionOf(pb.build() as Record<string, string>)) });
  const track = (key?: string) => {
    const event = buildStructEvent({ category: 'c', action: 'a' });
    expect(() => (key === undefined ? core.track(event) : session.run(key, () => core.track(event)))).not.toThrow();
    return entities[entities.length - 1]!;
  };
  return { session, entities, track, logger, clock };
}

/** Tracks until the store is written again (its retry waits a backoff of 100 ms), at most `attempts` turns. */
async function trackUntilWritable(run: Awaited<ReturnType<typeof sqliteApp>>, key: string | undefined, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts && !run.logger.warnings.some((w) => w.includes('writable again')); i++) {
    run.track(key);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (const chunk = Buffer.alloc(4096); ; ) writeSync(fd, chunk);
  } catch {
    // ENOSPC: the file system is full to the last block
  } finally {
    closeSync(fd);
  }
  return filler;
}

const pairsOf = (entities: ClientSessionEntity[]) => entities.filter((e) => e.eventIndex !== null).map((e) => `${e.sessionId}:${e.eventIndex}`);

describe('SqliteSessionStore on a failing file system (a real tmpfs)', () => {
  it('a full disk: tracking goes on from memory with one error, and the store continues the sessions once there is room', () =>
    withTmpfs(4096, async (dir) => {
      const run = await sqliteApp(join(dir, 'sessions.db'));
      const first = run.track('alice');
      const filler = fill(dir);
      for (let i = 0; i < 50; i++) run.track(`user-${i % 10}`); // new keys need writes
      run.track('alice');
      expect(run.logger.errors).toEqual([expect.stringMatching(/cannot write the session database \(logged once until it works again\); tracking goes on from memory: .*(full|SQLITE_FULL)/i)]);
      rmSync(filler);
      await trackUntilWritable(run, 'alice');
      const last = run.track('alice');
      expect(last).toMatchObject({ userId: first.userId, sessionId: first.sessionId });
      expect(new Set(pairsOf(run.entities)).size).toBe(pairsOf(run.entities).length);
      await run.session.flush();
      await run.session.close();
    }));

  it('a read-only folder at start-up: createClientSession resolves, tracking goes on from memory, and the stored identity and session continue once it is writable', () =>
    withTmpfs(4096, async (dir, setReadOnly) => {
      const file = join(dir, 'sessions.db');
      const clock = manualClock();
      const before = await sqliteApp(file, clock);
      const stored = before.track();
      await before.session.close();
      setReadOnly(true);
      const run = await sqliteApp(file, clock);
      for (let i = 0; i < 5; i++) run.track();
      expect(run.logger.errors).toHaveLength(1);
      setReadOnly(false);
      await trackUntilWritable(run, undefined);
      const last = run.track();
      expect(last).toMatchObject({ userId: stored.userId, sessionId: stored.sessionId });
      expect(last.eventIndex).toBeGreaterThan(1);
      expect(new Set(pairsOf(run.entities)).size).toBe(pairsOf(run.entities).length);
      await run.session.close();
    }));
});

describe('from lowdb to SQLite in one call', () => {
  it("imports a lowdb file's default and keyed sessions: userIds and sessions continue, after the indexes a killed process reserved", () =>
    withTempDir(async (dir) => {
      const lowdbFile = join(dir, 'client_session.json');
      const clock = manualClock(Date.now());
      const keyed = await createClientSession({ store: new LowdbSessionStore({ file: lowdbFile }), now: clock.now, checkInterval: 0 });
      const seen = new Map<string, ClientSessionEntity>();
      const core = trackerCore({ corePlugins: [keyed.plugin], callback: (pb) => {
        const p = pb.build() as Record<string, string>;
        seen.set(p.se_la ?? 'default', sessionOf(p));
      } });
      for (const key of ['alice', 'bob', 'carol']) keyed.run(key, () => core.track(buildStructEvent({ category: 'c', action: 'a', label: key })));
      await keyed.close();
      const log = join(dir, 'emitted.log');
      const crashed = await startApp(['track', lowdbFile, log]); // the lowdb fixture: the default session, killed mid-burst
      await new Promise((resolve) => setTimeout(resolve, 50));
      await kill(crashed);
      const emitted = (await import('node:fs')).readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
      const store = new SqliteSessionStore({ file: join(dir, 'sessions.db') });
      expect(await store.importLowdb(lowdbFile)).toEqual({ imported: 4, kept: 0, unusable: 0 });
      await store.close();
      const run = await sqliteApp(join(dir, 'sessions.db'), clock);
      for (const key of ['alice', 'bob', 'carol']) expect(run.track(key)).toMatchObject({ userId: seen.get(key)!.userId, sessionId: seen.get(key)!.sessionId, eventIndex: 2 });
      const next = run.track();
      expect(next).toMatchObject({ userId: emitted[0]![0], sessionId: emitted[0]![1] });
      expect(next.eventIndex).toBeGreaterThan(Math.max(...emitted.map((e) => Number(e[2])))); // never a repeat
      await run.session.close();
    }), 3 * START_MS);

  it('an import killed part-way leaves all of it or none; run again, it completes', () =>
    withTempDir(async (dir) => {
      const lowdbFile = join(dir, 'client_session.json');
      const keys = 50_000;
      await writeLargeStore(lowdbFile, keys);
      const file = join(dir, 'sessions.db');
      const child = spawn(process.execPath, [APP, 'import', file, lowdbFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await new Promise<void>((resolve) => child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('importing') && resolve()));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 400)); // a random moment of the import
      child.kill('SIGKILL');
      await exited;
      const count = () => {
        const db = new Database(file);
        try {
          return (db.prepare('SELECT count(*) AS n FROM snowplow_client_sessions').get() as { n: number }).n;
        } catch {
          return 0; // killed before the tables were made
        } finally {
          db.close();
        }
      };
      expect([0, keys]).toContain(count());
      const store = new SqliteSessionStore({ file });
      const outcome = await store.importLowdb(lowdbFile);
      await store.close();
      expect(outcome.imported + outcome.kept).toBe(keys);
      expect(count()).toBe(keys);
    }), 6 * START_MS);
});
