import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { withTempDir } from './helpers/capture.js';

const CLUSTER = fileURLToPath(new URL('./fixtures/sqlite-cluster.mjs', import.meta.url));
const APP = fileURLToPath(new URL('./fixtures/sqlite-app-process.mjs', import.meta.url));
/** One process start on a busy 2-core machine, generously: each test's limit is derived from its work. */
const START_MS = 10_000;

function run(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function startTracker(file: string, log: string) {
  const child = spawn(process.execPath, [APP, 'track', file, log], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve());
    void exited.then(() => reject(new Error(`the app exited before it was ready: ${stderr}`)));
  });
  return { child, exited, ready };
}

describe('SqliteSessionStore shared by real processes', () => {
  it('a node:cluster app of 4 workers, 480 requests of 40 users through two timeouts: one chain per user, one start and one end per rotation, no repeated index', () =>
    withTempDir(async (dir) => {
      const users = 40;
      const result = await run(CLUSTER, [join(dir, 'sessions.db'), dir, String(users), '4']);
      expect([result.code, result.stderr]).toEqual([0, '']);
      const served = JSON.parse(result.stdout) as Record<string, number>;
      expect(Object.values(served).reduce((a, b) => a + b, 0)).toBe(users * 4 * 3);
      expect(Object.keys(served)).toHaveLength(4); // the cluster spread the requests over every worker
      const lines = readdirSync(dir).filter((f) => f.startsWith('worker-')).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
      const events = lines.filter((l) => l.startsWith('event ')).map((l) => l.split(' '));
      expect(events).toHaveLength(users * 4 * 3 * 2);
      const pairs = events.map(([, , , sessionId, , eventIndex]) => `${sessionId}:${eventIndex}`);
      expect(new Set(pairs).size).toBe(pairs.length); // each (sessionId, eventIndex) emitted once
      const starts = lines.filter((l) => l.startsWith('start ')).map((l) => l.split(' ')[2]!);
      const ends = lines.filter((l) => l.startsWith('end ')).map((l) => l.split(' '));
      expect(new Set(starts).size).toBe(starts.length); // every start reported once, by one worker
      expect(starts).toHaveLength(users * 3);
      expect(ends).toHaveLength(users * 2); // one end per rotation
      expect(ends.every(([, , , reason]) => reason === 'timeout')).toBe(true);
      const userIds = new Set<string>();
      for (let u = 0; u < users; u++) {
        const mine = events.filter(([, user]) => user === `user-${u}`);
        expect(new Set(mine.map(([, , userId]) => userId)).size).toBe(1);
        userIds.add(mine[0]![2]!);
        const sessions = new Map<string, { index: number; previous: string }>();
        for (const [, , , sessionId, sessionIndex, , previous] of mine) sessions.set(sessionId!, { index: Number(sessionIndex), previous: previous! });
        const chain = [...sessions].sort((a, b) => a[1].index - b[1].index);
        expect(chain.map(([, s]) => s.index)).toEqual([1, 2, 3]);
        expect(chain.map(([, s]) => s.previous)).toEqual(['null', chain[0]![0], chain[1]![0]]);
        expect(chain.every(([id]) => starts.includes(id))).toBe(true);
      }
      expect(userIds.size).toBe(users);
    }), 6 * START_MS);

  it('25 SIGKILLs at random moments while 3 processes track in bursts on the same keys: no repeated index, no lost userId', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'sessions.db');
      const log = join(dir, 'emitted.log');
      const apps = [startTracker(file, log), startTracker(file, log), startTracker(file, log)];
      await Promise.all(apps.map((a) => a.ready));
      for (let kill = 0; kill < 25; kill++) {
        // The kill moment is what is random here; no time-based behaviour is being waited for.
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 80));
        const victim = Math.floor(Math.random() * apps.length);
        apps[victim]!.child.kill('SIGKILL');
        await apps[victim]!.exited;
        apps[victim] = startTracker(file, log);
        await apps[victim]!.ready;
      }
      for (const app of apps) app.child.kill('SIGKILL');
      await Promise.all(apps.map((a) => a.exited));
      const emitted = readFileSync(log, 'utf8').split('\n').filter((l) => /^\S+ \S+ \S+ \d+$/.test(l)).map((l) => l.split(' ') as [string, string, string, string]);
      expect(emitted.length).toBeGreaterThan(1000);
      const byKey = new Map<string, Array<[string, string, string, string]>>();
      for (const e of emitted) {
        if (!byKey.has(e[0])) byKey.set(e[0], []);
        byKey.get(e[0])!.push(e);
      }
      expect(byKey.size).toBe(6);
      for (const events of byKey.values()) {
        expect(new Set(events.map(([, userId]) => userId)).size).toBe(1); // the key's identity survived every kill
        expect(new Set(events.map(([, , sessionId]) => sessionId)).size).toBe(1); // always within the timeout: one session
      }
      const pairs = emitted.map(([, , sessionId, index]) => `${sessionId}:${index}`);
      expect(new Set(pairs).size).toBe(pairs.length); // no eventIndex emitted twice
    }), 30 * START_MS);
});
