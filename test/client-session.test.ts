import { describe, expect, it } from '@jest/globals';
import { buildStructEvent, buildSelfDescribingEvent, trackerCore } from '@snowplow/tracker-core';
import { createClientSession, MemorySessionStore, type ClientSession } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { capturingTracker, entitiesOf, manualClock, recordingLogger, sessionOf } from './helpers/capture.js';

const validator = new IgluValidator();
const MINUTE = 60_000;

async function setUp(options: Parameters<typeof createClientSession>[0] = {}) {
  const clock = manualClock();
  const session = await createClientSession({ store: new MemorySessionStore(), now: clock.now, ...options });
  const { tracker, payloads } = capturingTracker(session);
  const track = (action = 'click') => tracker.track(buildStructEvent({ category: 'test', action }));
  return { clock, session, tracker, payloads, track };
}

describe('client_session entity on every event', () => {
  it('attaches exactly one valid client_session 1-0-2 entity to every event type', async () => {
    const { session, tracker, payloads } = await setUp();
    tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
    tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/thing/jsonschema/1-0-0', data: { a: 1 } } }), [
      { schema: 'iglu:com.acme/other/jsonschema/1-0-0', data: {} },
    ]);
    await tracker.flush();
    expect(payloads).toHaveLength(2);
    for (const payload of payloads) {
      const entity = sessionOf(payload);
      expect(validator.validateData(CLIENT_SESSION_SCHEMA, entity)).toEqual({ valid: true, schema: CLIENT_SESSION_SCHEMA, errors: [], notes: [] });
    }
    expect(entitiesOf(payloads[1]!).map((e) => e.schema)).toContain('iglu:com.acme/other/jsonschema/1-0-0');
    expect(session.getSessionContext()).toEqual(sessionOf(payloads[1]!));
  });

  it('works with plain JSON contexts (encodeBase64: false) and through trackerCore corePlugins', async () => {
    const session = await createClientSession({ store: new MemorySessionStore() });
    const { tracker, payloads } = capturingTracker(session, false);
    tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
    await tracker.flush();
    expect(payloads[0]!.co).toBeDefined();
    expect(sessionOf(payloads[0]!).eventIndex).toBe(1);

    const other = await createClientSession({ store: new MemorySessionStore() });
    const sent: Array<Record<string, unknown>> = [];
    const core = trackerCore({ corePlugins: [other.plugin], callback: (pb) => sent.push(pb.build()) });
    core.track(buildStructEvent({ category: 'c', action: 'a' }));
    core.track(buildStructEvent({ category: 'c', action: 'b' }));
    expect(sent.map((p) => sessionOf(p as Record<string, string>).eventIndex)).toEqual([1, 2]);
  });

  it('returns null from getSessionContext before any event', async () => {
    const { session } = await setUp();
    expect(session.getSessionContext()).toBeNull();
  });
});

describe('session fields', () => {
  it('keeps one userId, numbers events from 1 and takes the first event id and dtm', async () => {
    const { tracker, payloads, track } = await setUp();
    track();
    track();
    track();
    await tracker.flush();
    const entities = payloads.map(sessionOf);
    expect(entities.map((e) => e.eventIndex)).toEqual([1, 2, 3]);
    expect(new Set(entities.map((e) => e.userId)).size).toBe(1);
    expect(new Set(entities.map((e) => e.sessionId)).size).toBe(1);
    expect(entities[0]).toMatchObject({ sessionIndex: 1, previousSessionId: null, storageMechanism: 'LOCAL_STORAGE' });
    for (const e of entities) {
      expect(e.firstEventId).toBe(payloads[0]!.eid);
      expect(e.firstEventTimestamp).toBe(new Date(Number(payloads[0]!.dtm)).toISOString());
    }
  });

  it('takes firstEventTimestamp from the true timestamp when one is given', async () => {
    const { tracker, payloads } = await setUp();
    tracker.track(buildStructEvent({ category: 'c', action: 'a' }), undefined, { type: 'ttm', value: Date.UTC(2022, 3, 17) });
    await tracker.flush();
    expect(sessionOf(payloads[0]!).firstEventTimestamp).toBe('2022-04-17T00:00:00.000Z');
  });

  it('rotates after the foreground timeout and links the sessions', async () => {
    const { clock, tracker, payloads, track } = await setUp({ foregroundTimeout: 600 });
    track();
    clock.advance(10 * MINUTE);
    track(); // exactly at the timeout: same session
    clock.advance(10 * MINUTE + 1);
    track();
    track();
    await tracker.flush();
    const [a, b, c, d] = payloads.map(sessionOf);
    expect(b!.sessionId).toBe(a!.sessionId);
    expect(c).toMatchObject({ sessionIndex: 2, eventIndex: 1, previousSessionId: a!.sessionId, userId: a!.userId, firstEventId: payloads[2]!.eid });
    expect(c!.sessionId).not.toBe(a!.sessionId);
    expect(d).toMatchObject({ sessionId: c!.sessionId, eventIndex: 2 });
  });

  it('uses the background timeout while backgrounded', async () => {
    const { clock, session, tracker, payloads, track } = await setUp({ foregroundTimeout: 600, backgroundTimeout: 300 });
    track();
    session.setBackground(true);
    expect(session.isBackground()).toBe(true);
    clock.advance(5 * MINUTE + 1);
    track();
    session.setBackground(false);
    clock.advance(9 * MINUTE);
    track();
    await tracker.flush();
    expect(payloads.map((p) => sessionOf(p).sessionIndex)).toEqual([1, 2, 2]);
  });

  it('opens a new session on the event after startNewSession()', async () => {
    const { session, tracker, payloads, track } = await setUp();
    track();
    session.startNewSession();
    expect(session.getSessionContext()?.sessionIndex).toBe(1); // takes effect with the next event
    track();
    track();
    await tracker.flush();
    expect(payloads.map((p) => [sessionOf(p).sessionIndex, sessionOf(p).eventIndex])).toEqual([[1, 1], [2, 1], [2, 2]]);
  });

  it('does not count an event that another plugin filtered out', async () => {
    const clock = manualClock();
    const session = await createClientSession({ store: new MemorySessionStore(), now: clock.now });
    const sent: Array<Record<string, string>> = [];
    let drop = false;
    const core = trackerCore({
      corePlugins: [session.plugin, { filter: () => !drop }],
      callback: (pb) => sent.push(pb.build() as Record<string, string>),
    });
    core.track(buildStructEvent({ category: 'c', action: 'a' }));
    drop = true;
    core.track(buildStructEvent({ category: 'c', action: 'dropped' }));
    drop = false;
    core.track(buildStructEvent({ category: 'c', action: 'b' }));
    expect(sent.map((p) => sessionOf(p).eventIndex)).toEqual([1, 2]);
  });
});

describe('robustness', () => {
  it('never throws from track() when now() misbehaves, and logs it', async () => {
    const logger = recordingLogger();
    const session = await createClientSession({ store: new MemorySessionStore(), now: () => Number.NaN, logger });
    const { tracker, payloads } = capturingTracker(session);
    expect(() => tracker.track(buildStructEvent({ category: 'c', action: 'a' }))).not.toThrow();
    await tracker.flush();
    expect(validator.validateData(CLIENT_SESSION_SCHEMA, sessionOf(payloads[0]!)).valid).toBe(true);
    expect(logger.warnings.join('\n')).toMatch(/now\(\) returned NaN/);
  });

  it.each([
    [{ foregroundTimeout: '600' }, TypeError, /`foregroundTimeout` must be a number of seconds, got string/],
    [{ foregroundTimeout: 0.5 }, RangeError, /`foregroundTimeout` must be a finite number of seconds >= 1, got 0.5/],
    [{ backgroundTimeout: Infinity }, RangeError, /`backgroundTimeout` must be a finite number of seconds >= 1/],
    [{ now: 5 }, TypeError, /`now` must be a function/],
    [{ store: {} }, TypeError, /`store` must implement SessionStore; missing getSession, setSession, deleteSession/],
    [{ logger: console.log }, TypeError, /`logger` must have warn\(message\) and error\(message\)/],
  ])('rejects bad options %p with a clear error', async (options, type, message) => {
    const attempt = createClientSession(options as never);
    await expect(attempt).rejects.toThrow(type);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toThrow(/^snowplow-client-session: createClientSession option/);
  });

  it('rejects a non-boolean setBackground', async () => {
    const session: ClientSession = await createClientSession({ store: new MemorySessionStore() });
    expect(() => session.setBackground('yes' as never)).toThrow(/setBackground expects a boolean/);
  });
});

describe('a failing store', () => {
  type Session = Parameters<MemorySessionStore['setSession']>[0];
  /** A user-written sync store whose writes throw while `broken`. */
  class ThrowingStore extends MemorySessionStore {
    broken = true;
    override setSession(session: Session, key?: string): void {
      if (this.broken) throw new Error('EACCES: permission denied');
      super.setSession(session, key);
    }
  }
  /** A user-written async store whose writes reject while `broken`. */
  class RejectingStore extends MemorySessionStore {
    broken = true;
    override async setSession(session: Session, key?: string): Promise<void> {
      if (this.broken) throw new Error('ENOSPC: no space left on device');
      super.setSession(session, key);
    }
  }

  it.each([
    ['rejects', () => new RejectingStore(), /ENOSPC/],
    ['throws', () => new ThrowingStore(), /EACCES/],
  ])('keeps tracking when the store %s, reports once per streak and recovers', async (_name, makeStore, cause) => {
    const store = makeStore();
    const logger = recordingLogger();
    const session = await createClientSession({ store, logger });
    const { tracker, payloads } = capturingTracker(session);
    for (let i = 0; i < 3; i++) tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
    await expect(session.flush()).rejects.toThrow(cause);
    tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
    await expect(session.flush()).rejects.toThrow(cause);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]).toMatch(/snowplow-client-session: cannot write the session store/);

    await tracker.flush();
    expect(payloads.map((p) => sessionOf(p).eventIndex)).toEqual([1, 2, 3, 4]);

    store.broken = false;
    await session.flush();
    expect(store.getSession()?.eventIndex).toBe(4);
    expect(logger.warnings).toEqual(['snowplow-client-session: the session store is writable again']);
    await session.close();
  });

  it('rejects close() with the cause when the last write fails', async () => {
    const store = new RejectingStore();
    const session = await createClientSession({ store, logger: recordingLogger() });
    const { tracker } = capturingTracker(session);
    tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
    await expect(session.close()).rejects.toThrow(/ENOSPC/);
  });
});
