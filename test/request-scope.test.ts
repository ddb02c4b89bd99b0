import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildStructEvent, trackerCore, type TrackerCore } from '@snowplow/tracker-core';
import { createClientSession, LowdbSessionStore, MemorySessionStore, RedisSessionStore, type ClientSession, type SessionStore } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { startRedis, type RedisServer } from '../scripts/lib/redis-server.js';
import { recordingLogger, sessionOf, withTempDir, type Payload } from './helpers/capture.js';
import { fakeBrowser, listen } from './helpers/visitors.js';

const USERS = 24;
const REQUESTS_PER_USER = 10;
const EVENTS_PER_REQUEST = 3;
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

/** A tracker-core whose sent payloads are kept, with the plugin on it. */
function capturingCore(session: ClientSession): { core: TrackerCore; payloads: Payload[] } {
  const payloads: Payload[] = [];
  const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void payloads.push(pb.build() as Payload) });
  return { core, payloads };
}

/** A yield of random length: other requests' code runs in between. */
const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4)));

/**
 * The app: a real HTTP server whose handler also calls the tracker-global `setUserId` (as the old README
 * pattern did) and awaits between its events, so concurrent requests interleave at every step.
 */
async function startApp(session: ClientSession, core: TrackerCore): Promise<{ server: Server; url: string }> {
  const scope = session.middleware((req: IncomingMessage) => new URL(req.url ?? '/', 'http://x').searchParams.get('user'));
  const server = createServer((req, res) =>
    scope(req, res, async () => {
      const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user')!;
      core.setUserId(user);
      for (let i = 0; i < EVENTS_PER_REQUEST; i++) {
        await pause();
        core.track(buildStructEvent({ category: 'request', action: 'step', label: user }));
      }
      res.end('ok');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}` };
}

async function driveConcurrentRequests(url: string): Promise<void> {
  const requests: Array<Promise<unknown>> = [];
  for (let r = 0; r < REQUESTS_PER_USER; r++) {
    for (let u = 0; u < USERS; u++) requests.push(fetch(`${url}/?user=user-${u}`).then((res) => res.text()));
  }
  await Promise.all(requests); // all 240 at once
}

/** Every event under its own request's user, one session per user, no index used twice. */
function expectCorrectAttribution(payloads: Payload[], contiguous: boolean): void {
  expect(payloads).toHaveLength(USERS * REQUESTS_PER_USER * EVENTS_PER_REQUEST);
  const validator = new IgluValidator();
  const byUser = new Map<string, ReturnType<typeof sessionOf>[]>();
  for (const payload of payloads) {
    expect(payload.uid).toBe(payload.se_la); // the request's own user, whatever setUserId said last
    const entity = sessionOf(payload);
    expect(validator.validateData(CLIENT_SESSION_SCHEMA, entity).valid).toBe(true);
    byUser.set(payload.se_la!, [...(byUser.get(payload.se_la!) ?? []), entity]);
  }
  expect(byUser.size).toBe(USERS);
  const identities = new Set<string>();
  for (const entities of byUser.values()) {
    expect(new Set(entities.map((e) => e.userId)).size).toBe(1);
    expect(new Set(entities.map((e) => e.sessionId)).size).toBe(1); // one session (no timeout passed)
    expect(entities.every((e) => e.sessionIndex === 1 && e.previousSessionId === null)).toBe(true);
    const indexes = entities.map((e) => e.eventIndex);
    expect(indexes.every((i) => typeof i === 'number')).toBe(true); // leases shared within the process: never null
    expect(new Set(indexes).size).toBe(indexes.length);
    if (contiguous) expect([...indexes].sort((a, b) => a! - b!)).toEqual(indexes.map((_, i) => i + 1));
    identities.add(entities[0]!.userId);
  }
  expect(identities.size).toBe(USERS); // no two users share an identity
}

const stores: Array<[string, (dir: string) => SessionStore, boolean]> = [
  ['memory', () => new MemorySessionStore(), true],
  ['lowdb', (dir) => new LowdbSessionStore({ file: join(dir, 'sessions.json') }), true],
  ['Redis', () => new RedisSessionStore({ url: redis.url, prefix: `scope-${Date.now()}:` }), false],
];

describe('request scope: a real HTTP server under concurrency', () => {
  it.each(stores)('%s store: 240 concurrent requests of 24 users, awaiting between events: every event under its own user and session', (_, makeStore, contiguous) =>
    withTempDir(async (dir) => {
      const session = await createClientSession({ store: makeStore(dir), checkInterval: 0, loadTimeout: 10_000 });
      const { core, payloads } = capturingCore(session);
      const { server, url } = await startApp(session, core);
      try {
        await driveConcurrentRequests(url);
      } finally {
        await new Promise((resolve) => server.close(resolve));
        await session.close();
      }
      expectCorrectAttribution(payloads, contiguous);
    }),
  );
});

describe('middleware() on a shared store', () => {
  it('Redis store: anonymous visitors keyed by their browser\'s domain user id, each loaded before its request, userId = duid', async () => {
    const session = await createClientSession({ store: new RedisSessionStore({ url: redis.url, prefix: `visitors-${Date.now()}:` }), checkInterval: 0, loadTimeout: 10_000 });
    const { core, payloads } = capturingCore(session);
    const scope = session.middleware();
    const browsers = [fakeBrowser(), fakeBrowser()];
    const app = await listen((req, res) =>
      scope(req, res, async () => {
        await pause();
        core.track(buildStructEvent({ category: 'c', action: 'a' }));
        res.end();
      }),
    );
    try {
      await Promise.all(browsers.flatMap((b) => [1, 2, 3].map(() => fetch(app.url, { headers: { cookie: b.cookie } }).then((r) => r.text()))));
    } finally {
      await app.close();
      await session.close();
    }
    for (const browser of browsers) {
      const events = payloads.filter((p) => p.duid === browser.duid);
      expect(events).toHaveLength(3);
      expect(new Set(events.map((p) => sessionOf(p).sessionId)).size).toBe(1);
      expect(events.every((p) => sessionOf(p).userId === browser.duid && p.sid === browser.sid)).toBe(true);
      expect(new Set(events.map((p) => sessionOf(p).eventIndex)).size).toBe(3);
    }
  });
});

describe('run(key, fn)', () => {
  it('returns what fn returns, nests with the innermost key winning, and leaves events outside it to sessionKey', async () => {
    const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0, sessionKey: (p) => p.se_la as string });
    const { core, payloads } = capturingCore(session);
    const track = (label: string) => core.track(buildStructEvent({ category: 'c', action: 'a', label }));
    const result = await session.run('outer', async () => {
      track('x');
      await pause();
      session.run('inner', () => track('y'));
      await pause();
      track('z');
      return 42;
    });
    track('plain');
    expect(result).toBe(42);
    expect(payloads.map((p) => p.uid)).toEqual(['outer', 'inner', 'outer', undefined]);
    const [x, y, z, plain] = payloads.map(sessionOf);
    expect(z!.sessionId).toBe(x!.sessionId);
    expect(y!.sessionId).not.toBe(x!.sessionId);
    expect(session.getSessionContext('plain')!.sessionId).toBe(plain!.sessionId); // sessionKey outside any scope
    expect(session.getSessionContext('outer')!.eventIndex).toBe(2);
    await session.close();
  });

  it('sets uid to the key, to options.uid, or removes the tracker-global uid with { uid: null }', async () => {
    const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0 });
    const { core, payloads } = capturingCore(session);
    core.setUserId('somebody-else');
    const track = () => core.track(buildStructEvent({ category: 'c', action: 'a' }));
    session.run('k1', track);
    session.run('k2', track, { uid: 'user@example.com' });
    session.run('k3', track, { uid: null });
    expect(payloads.map((p) => p.uid)).toEqual(['k1', 'user@example.com', undefined]);
    await session.close();
  });

  it('rejects a key that is not a non-empty string, naming the package and what is allowed', async () => {
    const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0 });
    expect(() => session.run('', () => 1)).toThrow(/snowplow-client-session: run\(key, fn\) expects a non-empty string key, got ""/);
    expect(() => session.run(7 as unknown as string, () => 1)).toThrow(/got number/);
    expect(() => session.run('k', () => 1, { uid: 5 as unknown as string })).toThrow(/option `uid` must be a string or null, got number/);
    await session.close();
  });

  it('middleware: a throwing keyOf is logged and the request goes on as one without a signed-in user', async () => {
    const logger = recordingLogger();
    const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0, logger });
    let called = 0;
    session.middleware(() => {
      throw new Error('no user');
    })({}, {}, () => void called++);
    expect(called).toBe(1);
    expect(logger.errors.join('\n')).toMatch(/the keyOf function threw; the request is taken as having no signed-in user/);
    await session.close();
  });
});
