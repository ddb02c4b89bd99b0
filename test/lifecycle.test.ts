import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent } from '@snowplow/tracker-core';
import { join } from 'node:path';
import { createClientSession, LowdbSessionStore, MemorySessionStore, type ClientSessionOptions, type SessionInfo } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import {
  APPLICATION_BACKGROUND_SCHEMA,
  APPLICATION_FOREGROUND_SCHEMA,
  CLIENT_SESSION_SCHEMA,
  SESSION_END_SCHEMA,
  SESSION_START_SCHEMA,
} from '../plugin/schema-uris.js';
import { capturingTracker, eventOf, manualClock, recordingLogger, sessionOf, withTempDir, type Payload } from './helpers/capture.js';

const MINUTE = 60_000;
const validator = new IgluValidator();

afterEach(() => {
  jest.useRealTimers();
});

async function setUp(options: ClientSessionOptions = {}) {
  const clock = manualClock();
  const calls: string[] = [];
  const session = await createClientSession({
    store: new MemorySessionStore(),
    now: clock.now,
    onSessionStart: (s) => calls.push(`start ${s.sessionIndex}${s.key ? ` ${s.key}` : ''}`),
    onSessionEnd: (s, reason) => calls.push(`end ${s.sessionIndex}${s.key ? ` ${s.key}` : ''} ${reason}`),
    ...options,
  });
  const { tracker, payloads } = capturingTracker(session);
  const track = (action = 'click', uid?: string) => {
    if (uid !== undefined) tracker.setUserId(uid);
    tracker.track(buildStructEvent({ category: 'c', action }));
  };
  return { clock, calls, session, tracker, payloads, track };
}

/** What each captured payload is: a lifecycle event's name, or the structured event's action. */
const describePayload = (p: Payload) => {
  const event = eventOf(p);
  if (event?.schema === SESSION_START_SCHEMA) return `session_start ${event.data.sessionIndex}`;
  if (event?.schema === SESSION_END_SCHEMA) return `session_end ${event.data.sessionIndex} ${event.data.reason}`;
  return `${p.se_ac} ${sessionOf(p).sessionIndex}/${sessionOf(p).eventIndex}`;
};

describe('checkInterval', () => {
  it('ends an idle session on time, without waiting for the next event', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] }); // the write-behind runs on real setImmediate
    const { clock, calls, track } = await setUp({ checkInterval: 15 });
    track();
    clock.advance(10 * MINUTE);
    jest.advanceTimersByTime(15_000);
    expect(calls).toEqual(['start 1']);
    clock.advance(15_000);
    jest.advanceTimersByTime(15_000);
    expect(calls).toEqual(['start 1', 'end 1 timeout']);
    jest.advanceTimersByTime(60_000);
    expect(calls).toHaveLength(2); // once per transition
  });

  it('stops once a backgrounded session timed out and resumes with the next event; close() clears it', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] }); // the write-behind runs on real setImmediate
    const { clock, calls, session, track } = await setUp({ checkInterval: 15 });
    track();
    session.setBackground(true);
    clock.advance(5 * MINUTE + 1);
    jest.advanceTimersByTime(15_000);
    expect(calls).toEqual(['start 1', 'end 1 backgroundTimeout']);
    expect(jest.getTimerCount()).toBe(0);
    session.setBackground(false);
    track();
    expect(calls).toEqual(['start 1', 'end 1 backgroundTimeout', 'start 2']); // ended once, not twice
    expect(jest.getTimerCount()).toBe(1);
    await session.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('runs no timer with checkInterval 0', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] }); // the write-behind runs on real setImmediate
    const { track } = await setUp({ checkInterval: 0 });
    track();
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('callbacks', () => {
  it('are called once per transition, in order, with the reason', async () => {
    const updates: number[] = [];
    const { clock, calls, session, track } = await setUp({ onSessionUpdate: (s) => updates.push(s.eventIndex!) });
    track();
    track();
    clock.advance(11 * MINUTE);
    track();
    session.startNewSession();
    track();
    expect(calls).toEqual(['start 1', 'end 1 timeout', 'start 2', 'end 2 manual', 'start 3']);
    expect(updates).toEqual([1, 2, 1, 1]);
  });

  it('log a throwing callback and never break tracking', async () => {
    const logger = recordingLogger();
    const { tracker, payloads, track } = await setUp({
      logger,
      onSessionStart: () => {
        throw new Error('boom');
      },
    });
    expect(() => track()).not.toThrow();
    await tracker.flush();
    expect(sessionOf(payloads[0]!).eventIndex).toBe(1);
    expect(logger.errors).toEqual(['snowplow-client-session: the onSessionStart callback threw; tracking goes on']);
  });
});

describe('session events', () => {
  it('tracks session_start and session_end in order, dated and valid, without recursion', async () => {
    const { clock, tracker, payloads, track } = await setUp({ sessionEvents: true, checkInterval: 0 });
    const t0 = clock.now();
    track('a');
    clock.advance(MINUTE);
    track('b');
    clock.advance(11 * MINUTE);
    track('c');
    await tracker.flush();
    expect(payloads.map(describePayload)).toEqual(['session_start 1', 'a 1/1', 'b 1/2', 'session_end 1 timeout', 'session_start 2', 'c 2/1']);
    const end = payloads[3]!;
    expect(eventOf(end)!.data).toMatchObject({ durationMs: MINUTE, eventCount: 2, startedAt: new Date(t0).toISOString(), endedAt: new Date(t0 + MINUTE).toISOString() });
    expect(end.ttm).toBe(String(t0 + MINUTE)); // dated at the last activity, not at discovery
    expect(sessionOf(end)).toMatchObject({ sessionIndex: 1, eventIndex: null });
    expect(sessionOf(payloads[4]!)).toMatchObject({ sessionIndex: 2, eventIndex: null, firstEventId: null });
    for (const p of payloads) expect(validator.validate(p)).toMatchObject({ valid: true, errors: [] });
  });

  it('tracks session_end from the checker, before the next session starts', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] }); // the write-behind runs on real setImmediate
    const { clock, tracker, payloads, track } = await setUp({ sessionEvents: true, checkInterval: 15 });
    track('a');
    clock.advance(11 * MINUTE);
    jest.advanceTimersByTime(15_000);
    track('b');
    jest.useRealTimers();
    await tracker.flush();
    expect(payloads.map(describePayload)).toEqual(['session_start 1', 'a 1/1', 'session_end 1 timeout', 'session_start 2', 'b 2/1']);
  });
});

describe('other transitions', () => {
  it('switches to background and foreground on application_background / application_foreground events', async () => {
    const { clock, session, tracker, payloads, track } = await setUp();
    track('a');
    tracker.track(buildSelfDescribingEvent({ event: { schema: APPLICATION_BACKGROUND_SCHEMA, data: { backgroundIndex: 1 } } }));
    expect(session.isBackground()).toBe(true);
    clock.advance(6 * MINUTE); // over the 300 s background timeout
    tracker.track(buildSelfDescribingEvent({ event: { schema: APPLICATION_FOREGROUND_SCHEMA, data: { foregroundIndex: 1 } } }));
    expect(session.isBackground()).toBe(false);
    clock.advance(6 * MINUTE); // under the 600 s foreground timeout
    track('b');
    await tracker.flush();
    expect(payloads.map((p) => [sessionOf(p).sessionIndex, sessionOf(p).eventIndex])).toEqual([[1, 1], [1, 2], [2, 1], [2, 2]]);
  });

  it('rotates at maxSessionLength however active the session is', async () => {
    const { clock, calls, track } = await setUp({ maxSessionLength: 3600, checkInterval: 0 });
    for (let i = 0; i <= 13; i++) { // 65 minutes of events every 5: over the hour only at the last
      track();
      clock.advance(5 * MINUTE);
    }
    expect(calls).toEqual(['start 1', 'end 1 maxLength', 'start 2']);
  });

  it('opens a new session when the clock goes backwards', async () => {
    const { clock, calls, track } = await setUp();
    track();
    clock.advance(-5_000);
    track();
    expect(calls).toEqual(['start 1', 'end 1 clock', 'start 2']);
  });

  it('opens a new session when the user changes, only with newSessionOnUserChange', async () => {
    const on = await setUp({ newSessionOnUserChange: true });
    on.track('a', 'alice');
    on.track('b', 'alice');
    on.track('c', 'bob');
    expect(on.calls).toEqual(['start 1', 'end 1 userChange', 'start 2']);
    const off = await setUp();
    off.track('a', 'alice');
    off.track('c', 'bob');
    expect(off.calls).toEqual(['start 1']);
  });

  it('sets sid and vid with atomicSessionFields', async () => {
    const { tracker, payloads, track } = await setUp({ atomicSessionFields: true });
    track();
    await tracker.flush();
    expect([payloads[0]!.sid, payloads[0]!.vid]).toEqual([sessionOf(payloads[0]!).sessionId, '1']);
  });
});

describe('one session per user (sessionKey)', () => {
  it('keeps independent sessions for users interleaving in one process', async () => {
    const ends: SessionInfo[] = [];
    const { clock, session, tracker, payloads, track } = await setUp({ sessionKey: (p) => p.uid as string | undefined, onSessionEnd: (s) => void ends.push(s) });
    track('a1', 'alice');
    clock.advance(5 * MINUTE);
    track('b1', 'bob');
    clock.advance(6 * MINUTE); // alice idle 11 min, bob 6 min
    track('a2', 'alice');
    track('b2', 'bob');
    session.startNewSession('bob');
    track('b3', 'bob');
    await tracker.flush();
    const by = Object.fromEntries(payloads.map((p) => [p.se_ac, sessionOf(p)]));
    expect(by.a1!.userId).not.toBe(by.b1!.userId);
    expect([by.a1!.sessionIndex, by.a2!.sessionIndex, by.a2!.previousSessionId]).toEqual([1, 2, by.a1!.sessionId]);
    expect([by.b1!.sessionId, by.b2!.eventIndex]).toEqual([by.b2!.sessionId, 2]);
    expect([by.b3!.sessionIndex, by.b3!.userId]).toEqual([2, by.b1!.userId]);
    expect(ends.map((s) => [s.key, s.sessionIndex])).toEqual([['alice', 1], ['bob', 1]]);
    expect(session.getSessionContext('alice')).toEqual(by.a2);
    expect(session.getSessionContext()).toBeNull(); // the default session saw nothing
  });

  it('reloads keyed sessions in a new process and prunes records idle past retention', () =>
    withTempDir(async (dir) => {
      jest.useFakeTimers({ doNotFake: ['setImmediate'] }); // the write-behind runs on real setImmediate
      const file = join(dir, 'sessions.json');
      const clock = manualClock();
      /** One app process: opens the store, tracks one event for alice. */
      const openAndTrackAlice = async () => {
        const session = await createClientSession({ store: new LowdbSessionStore({ file }), now: clock.now, sessionKey: (p) => p.uid as string, retention: 3600, checkInterval: 60 });
        const { tracker, payloads } = capturingTracker(session);
        tracker.setUserId('alice');
        tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
        return { session, tracker, payloads };
      };
      const first = await openAndTrackAlice();
      await first.session.close();
      const second = await openAndTrackAlice();
      jest.useRealTimers();
      await first.tracker.flush();
      await second.tracker.flush();
      expect(sessionOf(second.payloads[0]!)).toMatchObject({ ...sessionOf(first.payloads[0]!), eventIndex: 2 });
      jest.useFakeTimers({ doNotFake: ['setImmediate'] }); // the write-behind runs on real setImmediate
      clock.advance(3601_000);
      jest.advanceTimersByTime(60_000);
      await second.session.close();
      const third = await openAndTrackAlice();
      jest.useRealTimers();
      await third.tracker.flush();
      expect(sessionOf(third.payloads[0]!).userId).not.toBe(sessionOf(first.payloads[0]!).userId); // pruned: a new identity
      await third.session.close();
    }));
});

describe('option validation', () => {
  it.each([
    [{ checkInterval: -1 }, RangeError, /`checkInterval` must be a finite number of seconds >= 0, got -1/],
    [{ maxSessionLength: 0.5 }, RangeError, /`maxSessionLength` must be 0 \(off\) or a finite number of seconds >= 1, got 0.5/],
    [{ retention: NaN }, RangeError, /`retention` must be a finite number of seconds >= 1, got NaN/],
    [{ sessionEvents: 'yes' }, TypeError, /`sessionEvents` must be true or false, got string/],
    [{ sessionKey: 'uid' }, TypeError, /`sessionKey` must be a function, got string/],
    [{ onSessionEnd: {} }, TypeError, /`onSessionEnd` must be a function, got object/],
  ])('rejects %p', async (options, type, message) => {
    const attempt = createClientSession({ store: new MemorySessionStore(), ...(options as object) });
    await expect(attempt).rejects.toThrow(type);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('entities', () => {
  it('are valid for every kind of event the plugin emits', async () => {
    const { clock, tracker, payloads, track } = await setUp({ sessionEvents: true, atomicSessionFields: true });
    track('a', 'alice');
    clock.advance(11 * MINUTE);
    track('b', 'bob');
    await tracker.flush();
    expect(payloads.length).toBe(5);
    for (const p of payloads) {
      expect(validator.validate(p).errors).toEqual([]);
      expect(validator.validateData(CLIENT_SESSION_SCHEMA, sessionOf(p)).valid).toBe(true);
    }
  });
});
