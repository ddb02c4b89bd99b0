// The session features of Snowplow's mobile and browser trackers: anonymous tracking, the restart policy,
// runtime timeouts, suspend/resume, foreground/background transitions, reset, and the timeout of the state
// being left. One test per behaviour, on the real tracker-core with an injected clock.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import {
  APPLICATION_BACKGROUND_SCHEMA,
  createClientSession,
  LowdbSessionStore,
  MemorySessionStore,
  RedisSessionStore,
  SESSION_END_SCHEMA,
  SESSION_START_SCHEMA,
  type ClientSessionEntity,
  type ClientSessionOptions,
} from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { startRedis, type RedisServer } from '../scripts/lib/redis-server.js';
import { eventOf, manualClock, sessionOf, withTempDir, type Payload } from './helpers/capture.js';

const NIL = '00000000-0000-0000-0000-000000000000';
const validator = new IgluValidator();
const MIN = 60_000;

/** A session on a memory store (unless given), a tracker-core, and what it sent. */
async function setUp(options: ClientSessionOptions = {}) {
  const clock = manualClock();
  const ends: string[] = [];
  const session = await createClientSession({ store: new MemorySessionStore(), now: clock.now, checkInterval: 0, onSessionEnd: (_, reason) => ends.push(reason), ...options });
  const payloads: Payload[] = [];
  const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void payloads.push(pb.build() as Payload) });
  const track = (key?: string) => (key === undefined ? core.track(buildStructEvent({ category: 'c', action: 'a' })) : session.run(key, () => core.track(buildStructEvent({ category: 'c', action: 'a' }))));
  const entities = () => payloads.filter((p) => p.e !== 'ue').map(sessionOf);
  return { clock, session, core, payloads, track, entities, ends };
}

function expectValid(entities: ClientSessionEntity[]): void {
  for (const entity of entities) expect(validator.validateData(CLIENT_SESSION_SCHEMA, entity)).toMatchObject({ valid: true, errors: [] });
}

describe('anonymous tracking (Android/iOS userAnonymisation)', () => {
  it('option anonymous: the nil userId and no previousSessionId in every entity and in session_start/session_end, all valid', async () => {
    const { clock, track, entities, payloads, session } = await setUp({ anonymous: true, sessionEvents: true });
    track();
    clock.advance(11 * MIN);
    track(); // a second session, linked internally, anonymous outside
    const sent = entities();
    expect(sent.map((e) => [e.userId, e.previousSessionId, e.sessionIndex])).toEqual([
      [NIL, null, 1],
      [NIL, null, 2],
    ]);
    expectValid(sent);
    const lifecycle = payloads.map(eventOf).filter((e) => e?.schema === SESSION_START_SCHEMA || e?.schema === SESSION_END_SCHEMA);
    expect(lifecycle.map((e) => [e!.data.userId, e!.data.previousSessionId])).toEqual([
      [NIL, null],
      [NIL, null],
      [NIL, null],
    ]);
    for (const event of lifecycle) expect(validator.validate(event).errors).toEqual([]);
    expect(session.isAnonymous()).toBe(true);
    await session.close();
  });

  it('setAnonymous(on, key) switches one key: a new session (reason anonymous), other keys untouched; switching back shows the identity again', async () => {
    const { track, entities, session, ends } = await setUp();
    track('alice');
    track('bob');
    session.setAnonymous(true, 'alice');
    track('alice');
    track('bob');
    session.setAnonymous(false, 'alice');
    track('alice');
    const [a1, b1, a2, b2, a3] = entities();
    expect(a2).toMatchObject({ userId: NIL, previousSessionId: null, sessionIndex: 2 });
    expect(a2!.sessionId).not.toBe(a1!.sessionId);
    expect(b2).toMatchObject({ sessionId: b1!.sessionId, userId: b1!.userId });
    expect(a3).toMatchObject({ userId: a1!.userId, previousSessionId: a2!.sessionId, sessionIndex: 3 });
    expect(ends).toEqual(['anonymous', 'anonymous']);
    expectValid([a1!, b1!, a2!, b2!, a3!]);
    expect(() => session.setAnonymous('yes' as unknown as boolean)).toThrow(/setAnonymous expects a boolean, got "yes"/);
    await session.close();
  });
});

describe('restart policy (continueSessionOnRestart)', () => {
  it.each([
    [true, 'continues the stored session (the default)'],
    [false, 'opens a new session linked by previousSessionId (the mobile trackers\' default)'],
  ])('continueSessionOnRestart %s: a new store instance on the same lowdb file %s', (continueSessionOnRestart, _) =>
    withTempDir(async (dir) => {
      const file = join(dir, 'sessions.json');
      const first = await setUp({ store: new LowdbSessionStore({ file }) });
      first.track();
      await first.session.close();
      const second = await setUp({ store: new LowdbSessionStore({ file }), continueSessionOnRestart });
      second.track();
      await second.session.close();
      const [before] = first.entities();
      const [after] = second.entities();
      if (continueSessionOnRestart) expect(after).toMatchObject({ sessionId: before!.sessionId, eventIndex: 2 });
      else expect(after).toMatchObject({ userId: before!.userId, previousSessionId: before!.sessionId, sessionIndex: 2, eventIndex: 1 });
    }),
  );
});

describe('timeouts at runtime (iOS/.NET setters and getters)', () => {
  it('setTimeouts changes what decides the next event; getTimeouts reads it back; bad values are refused as the options are', async () => {
    const { clock, track, entities, session, ends } = await setUp();
    expect(session.getTimeouts()).toEqual({ foregroundTimeout: 600, backgroundTimeout: 300, maxSessionLength: 0 });
    track();
    session.setTimeouts({ foregroundTimeout: 60 });
    expect(session.getTimeouts()).toEqual({ foregroundTimeout: 60, backgroundTimeout: 300, maxSessionLength: 0 });
    clock.advance(61_000);
    track();
    expect(entities().map((e) => e.sessionIndex)).toEqual([1, 2]);
    expect(ends).toEqual(['timeout']);
    expect(() => session.setTimeouts({ backgroundTimeout: 0.5 })).toThrow(/snowplow-client-session: setTimeouts `backgroundTimeout` must be a finite number of seconds >= 1, got 0.5/);
    expect(() => session.setTimeouts({ maxSessionLength: '1h' as unknown as number })).toThrow(/`maxSessionLength` must be a number of seconds, got string/);
    expect(session.getTimeouts().backgroundTimeout).toBe(300); // a refused call changes nothing
    await session.close();
  });
});

describe('suspend and resume (Android setIsSuspended, iOS stopChecker/startChecker)', () => {
  beforeAll(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  });
  afterAll(() => {
    jest.useRealTimers();
  });

  it('while suspended no session times out, not on events and not by the checker; after resume, idle time counts from the resume', async () => {
    const { clock, track, entities, session, ends } = await setUp({ checkInterval: 15 });
    track();
    session.suspend();
    expect(session.isSuspended()).toBe(true);
    clock.advance(20 * MIN);
    jest.advanceTimersByTime(15_000); // a checker tick: it ends nothing
    expect(ends).toEqual([]);
    track(); // the same session
    clock.advance(30 * MIN);
    session.resume();
    clock.advance(9 * MIN);
    track(); // 9 min after the resume: still the same session
    expect(entities().map((e) => e.sessionIndex)).toEqual([1, 1, 1]);
    clock.advance(11 * MIN);
    jest.advanceTimersByTime(15_000);
    expect(ends).toEqual(['timeout']);
    await session.close();
  });
});

describe('foreground and background transitions', () => {
  it('onBackground/onForeground count transitions per session, from setBackground and from application_background events', async () => {
    const transitions: string[] = [];
    const record = (kind: string) => (info: { foregroundIndex: number; backgroundIndex: number; sessionIndex: number }) =>
      transitions.push(`${kind} fg${info.foregroundIndex} bg${info.backgroundIndex} s${info.sessionIndex}`);
    const { clock, track, core, session } = await setUp({ onForeground: record('fg'), onBackground: record('bg') });
    track();
    session.setBackground(true);
    session.setBackground(true); // no transition
    session.setBackground(false);
    core.track(buildSelfDescribingEvent({ event: { schema: APPLICATION_BACKGROUND_SCHEMA, data: { backgroundIndex: 1 } } }));
    expect(session.isBackground()).toBe(true);
    session.startNewSession();
    track();
    session.setBackground(false);
    clock.advance(1000);
    expect(transitions).toEqual(['bg fg0 bg1 s1', 'fg fg1 bg1 s1', 'bg fg1 bg2 s1', 'fg fg1 bg0 s2']);
    await session.close();
  });

  it('setBackground(false) first applies the background timeout: a session that timed out in the background has ended, with no checker', async () => {
    const { clock, track, entities, session, ends } = await setUp({ foregroundTimeout: 600, backgroundTimeout: 300 });
    track();
    session.setBackground(true);
    clock.advance(6 * MIN); // past the background timeout, within the foreground one
    session.setBackground(false);
    expect(ends).toEqual(['backgroundTimeout']);
    track();
    expect(entities().map((e) => e.sessionIndex)).toEqual([1, 2]);
    await session.close();
  });
});

describe('reset (the browser tracker\'s clearUserData)', () => {
  it('reset(key): a new userId, and the next event opens session 1 with no previous session; the old one ends (reason reset)', async () => {
    const { track, entities, session, ends } = await setUp();
    track('alice');
    track('bob');
    session.reset('alice');
    track('alice');
    track('bob');
    const [a1, b1, a2, b2] = entities();
    expect(a2!.userId).not.toBe(a1!.userId);
    expect(a2).toMatchObject({ sessionIndex: 1, previousSessionId: null, eventIndex: 1 });
    expect(b2).toMatchObject({ sessionId: b1!.sessionId, eventIndex: 2 });
    expect(ends).toEqual(['reset']);
    expectValid([a1!, b1!, a2!, b2!]);
    await session.close();
  });
});

describe('the same features on the shared Redis store', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  const shared = (prefix: string, options: ClientSessionOptions = {}) => setUp({ store: new RedisSessionStore({ url: redis.url, prefix }), loadTimeout: 10_000, ...options });

  it("a key's anonymous tracking is the store's: every process masks it", async () => {
    const a = await shared('features-2:');
    const b = await shared('features-2:');
    await a.session.load('k');
    a.track('k');
    a.session.setAnonymous(true, 'k');
    await a.session.load('k');
    a.track('k');
    await b.session.load('k');
    b.track('k');
    expect(b.entities()[0]).toMatchObject({ userId: NIL, previousSessionId: null, sessionId: a.entities()[1]!.sessionId });
    expect(b.session.isAnonymous('k')).toBe(true);
    await a.session.close();
    await b.session.close();
  });

  it('setAnonymous and reset take effect at the next load(); another process sees the new session', async () => {
    const a = await shared('features-1:');
    const b = await shared('features-1:');
    await a.session.load('k');
    a.track('k');
    a.session.setAnonymous(true, 'k');
    await a.session.load('k');
    a.track('k');
    a.session.setAnonymous(false, 'k');
    a.session.reset('k');
    await a.session.load('k');
    a.track('k');
    await b.session.load('k');
    b.track('k');
    const [first, anonymous, afterReset] = a.entities();
    expect(anonymous).toMatchObject({ userId: NIL, previousSessionId: null, sessionIndex: 2 });
    expect(afterReset!.userId).not.toBe(first!.userId);
    expect(afterReset).toMatchObject({ sessionIndex: 1, previousSessionId: null });
    expect(afterReset!.userId).not.toBe(NIL);
    expect(b.entities()[0]).toMatchObject({ sessionId: afterReset!.sessionId, userId: afterReset!.userId });
    expect(a.ends).toEqual(['anonymous', 'reset']);
    expectValid([...a.entities(), ...b.entities()]);
    await a.session.close();
    await b.session.close();
  });
});
