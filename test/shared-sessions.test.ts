import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import { createClientSession, RedisSessionStore, type ClientSessionEntity } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { manualClock, recordingLogger, sessionOf, withTempDir } from './helpers/capture.js';
import { startRedis, startRedisCluster, type RedisServer } from '../scripts/lib/redis-server.js';

const WORKER = fileURLToPath(new URL('./fixtures/shared-sessions-worker.mjs', import.meta.url));
const USERS = 100;
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

/**
 * Runs `count` worker processes through three phases in step: every worker serves every user once per
 * phase, all workers at once, and the next phase starts only when all are done (a barrier over stdin).
 */
async function runWorkers(count: number, kind: 'redis' | 'cluster' | 'lowdb', target: string, dir: string): Promise<string[]> {
  const workers = Array.from({ length: count }, (_, i) => {
    const log = join(dir, `worker-${i}.log`);
    const child = spawn(process.execPath, [WORKER, kind, target, String(USERS), log], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const exited = new Promise<void>((resolve, reject) =>
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${i} exited ${code}: ${stderr}`)))),
    );
    const expect = async (line: string) => {
      const next = await Promise.race([lines.next(), exited.then(() => ({ value: 'exited', done: true }))]);
      if (next.value !== line) throw new Error(`worker ${i}: expected "${line}", got "${String(next.value)}": ${stderr}`);
    };
    return { child, log, exited, expect };
  });
  await Promise.all(workers.map((w) => w.expect('ready')));
  for (const phase of [0, 1, 2]) {
    for (const w of workers) w.child.stdin.write(`phase ${phase}\n`);
    await Promise.all(workers.map((w) => w.expect(`done ${phase}`)));
  }
  for (const w of workers) w.child.stdin.end('exit\n');
  await Promise.all(workers.map((w) => w.exited));
  return workers.map((w) => readFileSync(w.log, 'utf8'));
}

/** Per user: the sessions in order, and per session its event indexes. */
function structure(logs: string[]) {
  const byUser = new Map<string, { userIds: Set<string>; sessions: Map<string, { index: number; previous: string; events: number[] }> }>();
  for (const line of logs.join('').split('\n').filter(Boolean)) {
    const [user, userId, sessionId, sessionIndex, eventIndex, previous] = line.split(' ') as [string, string, string, string, string, string];
    const entry = byUser.get(user) ?? { userIds: new Set(), sessions: new Map() };
    entry.userIds.add(userId);
    const session = entry.sessions.get(sessionId) ?? { index: Number(sessionIndex), previous, events: [] };
    session.events.push(Number(eventIndex));
    entry.sessions.set(sessionId, session);
    byUser.set(user, entry);
  }
  return byUser;
}

function expectThreeLinkedSessionsPerUser(logs: string[]): void {
  const byUser = structure(logs);
  expect(byUser.size).toBe(USERS);
  const allUserIds = new Set<string>();
  for (const { userIds, sessions } of byUser.values()) {
    expect(userIds.size).toBe(1); // userId stable for the user
    allUserIds.add([...userIds][0]!);
    const ordered = [...sessions].sort((a, b) => a[1].index - b[1].index);
    expect(ordered.map(([, s]) => s.index)).toEqual([1, 2, 3]); // exactly one rotation per timeout
    expect(ordered.map(([, s]) => s.previous)).toEqual(['null', ordered[0]![0], ordered[1]![0]]); // one chain
    for (const [, s] of ordered) expect(new Set(s.events).size).toBe(s.events.length); // no duplicate eventIndex
  }
  expect(allUserIds.size).toBe(USERS); // each user their own identity
}

describe('sessions shared across processes', () => {
  it('4 processes, 100 users, interleaved through two timeouts, on one Redis: one chain of 3 sessions per user, no repeated index', () =>
    withTempDir(async (dir) => {
      const logs = await runWorkers(4, 'redis', redis.url, dir);
      expect(logs.every((log) => log.length > 0)).toBe(true);
      expectThreeLinkedSessionsPerUser(logs);
    }));

  it('the same 4-process interleaving on a Redis Cluster of 3 masters: the same guarantees', () =>
    withTempDir(async (dir) => {
      const cluster = await startRedisCluster(3);
      try {
        expectThreeLinkedSessionsPerUser(await runWorkers(4, 'cluster', cluster.urls.join(','), dir));
      } finally {
        await cluster.stop();
      }
    }));

  it('the same journey in one process on lowdb gives the same structure', () =>
    withTempDir(async (dir) => {
      expectThreeLinkedSessionsPerUser(await runWorkers(1, 'lowdb', join(dir, 'sessions.json'), dir));
    }));
});

describe('leases', () => {
  it('gives events beyond the reserved indexes eventIndex null, with one warning, never a repeated index', async () => {
    const logger = recordingLogger();
    const session = await createClientSession({ store: new RedisSessionStore({ url: redis.url, prefix: 'lease:' }), logger, checkInterval: 0, sessionKey: (p) => p.se_la as string });
    try {
      const entities: ClientSessionEntity[] = [];
      const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void entities.push(sessionOf(pb.build() as Record<string, string>)) });
      await session.load('bob', 2);
      for (let i = 0; i < 3; i++) core.track(buildStructEvent({ category: 'c', action: 'a', label: 'bob' }));
      await session.load('bob', 2);
      core.track(buildStructEvent({ category: 'c', action: 'a', label: 'bob' }));
      expect(entities.map((e) => e.eventIndex)).toEqual([1, 2, null, 3]);
      expect(logger.warnings.filter((w) => w.includes('tracked more events than its key had reserved indexes'))).toHaveLength(1);
      expect(entities[3]!.firstEventId).toBe(entities[0]!.firstEventId); // kept though Redis has not heard of it yet
    } finally {
      await session.close();
    }
  });
});

describe('Redis faults', () => {
  it('keeps tracking without blocking while Redis is down, warns, and recovers what it had acknowledged', async () => {
    const logger = recordingLogger();
    const clock = manualClock();
    const session = await createClientSession({ store: new RedisSessionStore({ url: redis.url, prefix: 'faults:' }), now: clock.now, logger, checkInterval: 0, sessionKey: (p) => p.se_la as string });
    try {
      const entities: ClientSessionEntity[] = [];
      const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void entities.push(sessionOf(pb.build() as Record<string, string>)) });
      const request = async () => {
        await session.load('alice');
        expect(() => core.track(buildStructEvent({ category: 'c', action: 'a', label: 'alice' }))).not.toThrow();
      };
      await request();
      await session.flush();
      await redis.kill();
      const before = performance.now();
      await request(); // Redis is gone: no throw, no hang
      expect(performance.now() - before).toBeLessThan(2000);
      expect(logger.warnings.join('\n')).toMatch(/the shared session store is unreachable; sessions go on locally until it is back/);
      await redis.restart();
      for (let attempt = 0; attempt < 100 && !logger.warnings.some((w) => w.includes('reachable again')); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50)); // the client reconnects in the background
        await session.load('alice');
      }
      await request();
      expect(logger.warnings.join('\n')).toMatch(/the shared session store is reachable again/);
      const validator = new IgluValidator();
      for (const e of entities) expect(validator.validateData(CLIENT_SESSION_SCHEMA, e).valid).toBe(true);
      expect(new Set(entities.map((e) => e.sessionId)).size).toBe(1); // the session acknowledged before the crash survived
      const indexes = entities.map((e) => e.eventIndex);
      expect(new Set(indexes).size).toBe(indexes.length); // and no index was handed out twice
    } finally {
      await session.close();
    }
  });
});
