import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import { createClient } from 'redis';
import { createClientSession, RedisSessionStore, type ClientSessionEntity, type ClientSessionOptions } from '../plugin/index.js';
import { startRedis, type RedisServer } from '../scripts/lib/redis-server.js';
import { manualClock, recordingLogger, sessionOf, type Payload } from './helpers/capture.js';

const APP = fileURLToPath(new URL('./fixtures/redis-app-process.mjs', import.meta.url));
let redis: RedisServer;
let admin: ReturnType<typeof createClient>;
let prefixCount = 0;
const freshPrefix = () => `t${++prefixCount}-${process.pid}:`;

beforeAll(async () => {
  redis = await startRedis();
  admin = createClient({ url: redis.url });
  await admin.connect();
});
afterAll(async () => {
  await admin.close();
  await redis.stop();
});

/** One app server: a session on its own Redis client, a tracker-core, and what it sent. */
async function app(prefix: string, options: ClientSessionOptions = {}) {
  const session = await createClientSession({ store: new RedisSessionStore({ url: redis.url, prefix }), checkInterval: 0, loadTimeout: 10_000, logger: recordingLogger(), ...options });
  const entities: ClientSessionEntity[] = [];
  const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void entities.push(sessionOf(pb.build() as Payload)) });
  const track = (key: string) => session.run(key, () => core.track(buildStructEvent({ category: 'c', action: 'a' })));
  return { session, entities, track };
}

function expectNoRepeatedIndex(entities: ClientSessionEntity[]): void {
  const pairs = entities.filter((e) => e.eventIndex !== null).map((e) => `${e.sessionId}/${e.eventIndex}`);
  expect(new Set(pairs).size).toBe(pairs.length);
}

/** Waits, bounded by a count of short polls, until `ready()` holds. */
async function until(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a shared record is never deleted or re-created from one process view', () => {
  it('a process forgetting an idle key does not DEL it: the key keeps its userId and session (retention 100 s)', async () => {
    const clock = manualClock();
    const prefix = freshPrefix();
    const a = await app(prefix, { now: clock.now, retention: 100, checkInterval: 1 });
    const b = await app(prefix, { now: clock.now, retention: 100 });
    try {
      await a.session.load('k');
      a.track('k');
      clock.advance(80_000);
      await b.session.load('k');
      b.track('k');
      await b.session.flush();
      clock.advance(21_000); // a's own view of k is 101 s old: past its retention
      await until(() => a.session.getSessionContext('k') === null, "a's checker to forget k");
      expect(await admin.get(`${prefix}{k}`)).not.toBeNull();
      await a.session.load('k');
      a.track('k');
      const [first, , last] = [...a.entities, ...b.entities].sort((x, y) => x.eventIndex! - y.eventIndex!);
      expect(last!.userId).toBe(first!.userId);
      expect(last!.sessionId).toBe(first!.sessionId); // b's activity 21 s before kept the session alive
    } finally {
      await a.session.close();
      await b.session.close();
    }
  });

  it.each(['DEL', 'FLUSHDB'])('a record gone between a lease and a paced merge (%s) is not re-created; no (sessionId, eventIndex) repeats; the next lease links to it', async (wipe) => {
    const prefix = freshPrefix();
    const a = await app(prefix, { writeInterval: 60 });
    const b = await app(prefix, { writeInterval: 60 });
    try {
      await a.session.load('k', 8); // 1..8
      a.track('k');
      await a.session.flush(); // the first event is in Redis; a's next changes wait for a paced write
      a.track('k');
      a.track('k');
      await b.session.load('k', 8); // 9..16
      b.track('k');
      b.track('k');
      await b.session.flush();
      if (wipe === 'DEL') await admin.del(`${prefix}{k}`);
      else await admin.flushDb();
      await a.session.flush(); // a's paced merge (its view: eventIndex 3) lands after the record is gone
      expect(await admin.get(`${prefix}{k}`)).toBeNull();
      await b.session.load('k', 8);
      for (let i = 0; i < 8; i++) b.track('k'); // a record re-created at index 3 would hand out 9 and 10 again here
      await a.session.load('k', 8);
      a.track('k');
      const all = [...a.entities, ...b.entities];
      expectNoRepeatedIndex(all);
      const before = a.entities[0]!;
      const after = b.entities[2]!;
      expect(after.sessionId).not.toBe(before.sessionId);
      expect(after).toMatchObject({ userId: before.userId, previousSessionId: before.sessionId, sessionIndex: 2, eventIndex: 1 });
      expect(a.entities.at(-1)!.sessionId).toBe(after.sessionId); // a continues the new session, after every index b holds
      expect(a.entities.at(-1)!.eventIndex).toBeGreaterThan(Math.max(...b.entities.slice(2).map((e) => e.eventIndex!)));
    } finally {
      await a.session.close();
      await b.session.close();
    }
  });

  it('starts without reading or listing sessions: no "cannot list sessions" warning', async () => {
    const logger = recordingLogger();
    const { session } = await app(freshPrefix(), { logger, sessionKey: (p) => p.uid as string });
    await session.close();
    expect([...logger.warnings, ...logger.errors]).toEqual([]);
  });
});

describe('leases shared within a process', () => {
  it('two concurrent requests of one key use one pool: no eventIndex null while reserved indexes remain', async () => {
    const { session, entities, track } = await app(freshPrefix());
    try {
      const request = async () => {
        await session.load('k', 4);
        for (let i = 0; i < 3; i++) {
          track('k');
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      await Promise.all([request(), request()]);
      expect(entities.map((e) => e.eventIndex).every((i) => i !== null)).toBe(true);
      expectNoRepeatedIndex(entities);
    } finally {
      await session.close();
    }
  });

  it('a request running past its block gets a top-up instead of eventIndex null', async () => {
    const { session, entities, track } = await app(freshPrefix());
    try {
      await session.load('k', 2);
      for (let i = 0; i < 20; i++) {
        track('k');
        // The request does I/O between its events: a round trip on the same Redis connection, which Redis
        // answers in order, so a top-up sent before it has arrived by then (on any machine, however busy).
        await session.load(`other-${i}`, 1);
      }
      expect(entities.map((e) => e.eventIndex)).not.toContain(null);
      expectNoRepeatedIndex(entities);
    } finally {
      await session.close();
    }
  });

  it("the index-1 event's firstEventId reaches Redis at once, so other processes carry it", async () => {
    const prefix = freshPrefix();
    const a = await app(prefix, { writeInterval: 600 }); // paced writes would wait 10 minutes
    const b = await app(prefix);
    try {
      await a.session.load('k');
      a.track('k');
      await until(async () => (await admin.get(`${prefix}{k}`))?.includes(a.entities[0]!.firstEventId!) ?? false, 'the first event in Redis');
      await b.session.load('k');
      b.track('k');
      expect(b.entities[0]!.firstEventId).toBe(a.entities[0]!.firstEventId);
    } finally {
      await a.session.close();
      await b.session.close();
    }
  });
});

describe('bounded waits', () => {
  it('an unreachable Redis at start-up: createClientSession resolves, load() falls back with one warning, close() says what was not written and ends', async () => {
    const logger = recordingLogger();
    const store = new RedisSessionStore({ url: 'redis://127.0.0.1:9', commandTimeout: 200 }); // nothing listens on port 9
    const session = await createClientSession({ store, logger, checkInterval: 0, loadTimeout: 200 });
    const entities: ClientSessionEntity[] = [];
    const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void entities.push(sessionOf(pb.build() as Payload)) });
    await Promise.all([session.load('k'), session.load('k'), session.load('j')]);
    session.run('k', () => core.track(buildStructEvent({ category: 'c', action: 'a' })));
    expect(entities).toHaveLength(1); // tracked locally
    expect(logger.warnings.filter((w) => w.includes('unreachable'))).toHaveLength(1);
    // The last write cannot reach Redis: close() rejects with a bounded, named error, and releases the client all the same.
    await expect(session.close()).rejects.toThrow(/Redis did not answer the merge script within 200 ms \(RedisSessionStore option commandTimeout\)/);
  });

  it('requireStore: createClientSession rejects with a clear error when Redis does not answer', async () => {
    const store = new RedisSessionStore({ url: 'redis://127.0.0.1:9', commandTimeout: 200 });
    await expect(createClientSession({ store, requireStore: true, loadTimeout: 200 })).rejects.toThrow(
      /snowplow-client-session: the shared session store did not answer at start-up \(option requireStore is on; loadTimeout 200 ms\)/,
    );
  });

  it('a frozen Redis (SIGSTOP): every load() resolves, track() goes on, one probe at a time reaches Redis, and it recovers after SIGCONT', async () => {
    const logger = recordingLogger();
    const prefix = freshPrefix();
    // writeInterval 600: no paced merge during the freeze, so every EVAL counted below is a lease.
    const options = { checkInterval: 0, loadTimeout: 500, writeInterval: 600 }; // generous: a busy machine's healthy Redis answers well within it
    const session = await createClientSession({ store: new RedisSessionStore({ url: redis.url, prefix, commandTimeout: 5000 }), logger, ...options });
    const entities: ClientSessionEntity[] = [];
    const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void entities.push(sessionOf(pb.build() as Payload)) });
    const request = async (user: string) => {
      await session.load(user);
      session.run(user, () => core.track(buildStructEvent({ category: 'c', action: 'a' })));
    };
    const WAVES = 5;
    const PER_WAVE = 40;
    try {
      await request('user-0');
      const evalsBefore = await evalCalls();
      redis.freeze();
      for (let wave = 0; wave < WAVES; wave++) {
        await Promise.all(Array.from({ length: PER_WAVE }, (_, i) => request(`user-${i}`)));
      }
      expect(entities).toHaveLength(1 + WAVES * PER_WAVE); // no request was lost or blocked
      // createClientSession does not wait on a frozen Redis: a shared store is not read at start-up.
      const other = await createClientSession({ store: new RedisSessionStore({ url: redis.url, prefix, commandTimeout: 500 }), ...options });
      redis.thaw();
      await other.close();
      let recoveryRequests = 0;
      while (!logger.warnings.some((w) => w.includes('reachable again'))) {
        if (++recoveryRequests > 200) throw new Error('the session did not reconnect to Redis');
        await request('user-0');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(logger.warnings.filter((w) => w.includes('unreachable'))).toHaveLength(1);
      const leasesSent = (await evalCalls()) - evalsBefore - recoveryRequests;
      // The first wave went out before the outage was known; after that, one probe per wave.
      expect(leasesSent).toBeLessThanOrEqual(PER_WAVE + WAVES);
      expect(entities.at(-1)!.eventIndex).not.toBeNull();
    } finally {
      redis.thaw();
      await session.close();
    }
  });
});

/** How many EVALs Redis has run so far. */
async function evalCalls(): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('one clock for a shared session', () => {
  it("two app servers whose clocks are 2 s apart: 10 alternating requests stay in one session (Redis's TIME decides)", async () => {
    const prefix = freshPrefix();
    const servers = [appProcess(prefix, 0), appProcess(prefix, -2000)];
    try {
      await Promise.all(servers.map((s) => s.ready));
      const seen: Array<ClientSessionEntity & { ends: string[] }> = [];
      for (let i = 0; i < 10; i++) seen.push(await servers[i % 2]!.ask('request alice'));
      expect(new Set(seen.map((e) => e.sessionId)).size).toBe(1);
      expect(seen.every((e) => e.sessionIndex === 1 && e.previousSessionId === null)).toBe(true);
      expect(seen.flatMap((e) => e.ends)).toEqual([]);
    } finally {
      await Promise.all(servers.map((s) => s.exit()));
    }
  });
});

describe('restart policy across processes (continueSessionOnRestart: false)', () => {
  it("a new process ends the sessions idle since before it started (reason restart), and continues those other processes keep using", async () => {
    const prefix = freshPrefix();
    const running = appProcess(prefix, 0);
    await running.ready;
    const alice1 = await running.ask('request alice');
    const restarted = appProcess(prefix, 0, false);
    await restarted.ready; // started: alice has been idle since before it
    const bob1 = await running.ask('request bob'); // bob is in use after the start
    try {
      const alice2 = await restarted.ask('request alice');
      expect(alice2).toMatchObject({ previousSessionId: alice1.sessionId, sessionIndex: 2, userId: alice1.userId, ends: ['restart'] });
      const bob2 = await restarted.ask('request bob');
      expect(bob2).toMatchObject({ sessionId: bob1.sessionId, sessionIndex: 1 });
      expect(await running.ask('request alice')).toMatchObject({ sessionId: alice2.sessionId }); // the other process follows the new session
    } finally {
      await Promise.all([running.exit(), restarted.exit()]);
    }
  });
});

/** An app server in its own process (fixtures/redis-app-process.mjs), driven one line at a time. */
function appProcess(prefix: string, skewMs: number, continueSessionOnRestart = true) {
  const child = spawn(process.execPath, [APP, redis.url, prefix, String(skewMs), String(continueSessionOnRestart)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done === true) throw new Error('the app process exited');
    return value as string;
  };
  return {
    ready: next(),
    ask: async (command: string) => {
      child.stdin!.write(`${command}\n`);
      return JSON.parse(await next()) as ClientSessionEntity & { ends: string[] };
    },
    exit: async () => {
      child.stdin!.end('exit\n');
      await exited;
    },
  };
}

