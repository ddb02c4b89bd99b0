// clock: 'event': a queue consumer drains a backlog whose true timestamps (ttm) span two days, in one burst,
// through the real node-tracker; sessions split where the timestamps say, not where the processing clock is.
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildStructEvent } from '@snowplow/node-tracker';
import { createClient } from 'redis';
import { createClientSession, MemorySessionStore, RedisSessionStore, SqliteSessionStore, type ClientSessionEntity, type ClientSessionOptions, type RedisScriptClient } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA, SESSION_END_SCHEMA, SESSION_START_SCHEMA } from '../plugin/schema-uris.js';
import { eventOf, manualClock, recordingLogger, recordingTracker, sessionOf, withTempDir, type Payload } from './helpers/capture.js';

const MINUTE = 60_000;
const TIMEOUT_S = 1800;
const day1 = (h: number, m: number) => Date.UTC(2026, 2, 10, h, m);
const day2 = (h: number, m: number) => Date.UTC(2026, 2, 11, h, m);

/** Each user's activity over two days, as the queue holds it (true timestamps). */
const BACKLOG: Record<string, number[]> = {
  alice: [day1(9, 0), day1(9, 10), day1(9, 35), day1(11, 0), day1(11, 29), day2(8, 0), day2(8, 30) /* exactly the timeout: continues */, day2(9, 1)],
  bob: [day1(23, 50), day2(0, 10) /* across midnight */, day2(0, 45), day2(18, 0)],
  carol: [day2(12, 0)],
};

/** The sessions a timeline of timestamps implies: a new one after a gap of more than the timeout. */
function timelineSessions(times: number[], timeoutMs: number): number[][] {
  const sessions: number[][] = [];
  for (const time of [...times].sort((a, b) => a - b)) {
    const current = sessions.at(-1);
    if (current === undefined || time - current.at(-1)! > timeoutMs) sessions.push([time]);
    else current.push(time);
  }
  return sessions;
}

/** Drains `queue` in one burst (the processing clock moves 1 ms per event) inside run(user, …); returns what was sent. */
async function drain(queue: Array<[string, number]>, options: ClientSessionOptions = {}) {
  const clock = manualClock(Date.UTC(2026, 2, 13, 7)); // two days after the backlog
  const logger = recordingLogger();
  const session = await createClientSession({ store: new MemorySessionStore(), foregroundTimeout: TIMEOUT_S, checkInterval: 0, now: clock.now, logger, ...options });
  const { tracker, payloads } = recordingTracker(session);
  for (const [user, ttm] of queue) {
    session.run(user, () => tracker.track(buildStructEvent({ category: 'queue', action: 'job', label: user }), null, { type: 'ttm', value: ttm }));
    clock.advance(1);
  }
  await session.close();
  return { payloads, logger, session };
}

const byTime = () => Object.entries(BACKLOG).flatMap(([user, times]) => times.map((t): [string, number] => [user, t])).sort((a, b) => a[1] - b[1]);
const byUser = () => Object.entries(BACKLOG).flatMap(([user, times]) => times.map((t): [string, number] => [user, t]));
const tracked = (payloads: Payload[], user: string) => payloads.filter((p) => p.se_la === user);

/** Groups a user's events by session, in the order of their sessions. */
function sessionsOf(payloads: Payload[]): Array<{ entity: ClientSessionEntity; times: number[]; indexes: Array<number | null> }> {
  const groups = new Map<string, { entity: ClientSessionEntity; times: number[]; indexes: Array<number | null> }>();
  for (const payload of payloads) {
    const entity = sessionOf(payload);
    const group = groups.get(entity.sessionId) ?? { entity, times: [], indexes: [] };
    group.times.push(Number(payload.ttm));
    group.indexes.push(entity.eventIndex);
    groups.set(entity.sessionId, group);
  }
  return [...groups.values()].sort((a, b) => a.entity.sessionIndex - b.entity.sessionIndex);
}

describe("createClientSession({ clock: 'event' })", () => {
  it('a backlog over two days processed in one burst yields the sessions its timestamps imply', async () => {
    const { payloads } = await drain(byTime(), { clock: 'event' });
    const validator = new IgluValidator();
    for (const [user, times] of Object.entries(BACKLOG)) {
      const expected = timelineSessions(times, TIMEOUT_S * 1000);
      const sessions = sessionsOf(tracked(payloads, user));
      expect(sessions.map((s) => s.times)).toEqual(expected);
      sessions.forEach(({ entity, times: sessionTimes, indexes }, i) => {
        expect(entity.sessionIndex).toBe(i + 1);
        expect(entity.previousSessionId).toBe(i === 0 ? null : sessions[i - 1]!.entity.sessionId);
        expect(entity.firstEventTimestamp).toBe(new Date(sessionTimes[0]!).toISOString());
        expect(indexes).toEqual(sessionTimes.map((_, n) => n + 1));
        expect(validator.validateData(CLIENT_SESSION_SCHEMA, entity).valid).toBe(true);
      });
    }
    expect(sessionsOf(tracked(payloads, 'alice'))).toHaveLength(4);
    expect(sessionsOf(tracked(payloads, 'bob'))).toHaveLength(3);
  });

  it('the default processing clock makes one session per user of the same burst (what event time is for)', async () => {
    const { payloads } = await drain(byTime());
    for (const user of Object.keys(BACKLOG)) expect(sessionsOf(tracked(payloads, user))).toHaveLength(1);
  });

  it('keys are independent: the backlog drained one user after another (out of order across keys) gives the same sessions', async () => {
    const [merged, grouped] = [await drain(byTime(), { clock: 'event' }), await drain(byUser(), { clock: 'event' })];
    for (const user of Object.keys(BACKLOG)) {
      expect(sessionsOf(tracked(grouped.payloads, user)).map((s) => s.times)).toEqual(sessionsOf(tracked(merged.payloads, user)).map((s) => s.times));
    }
  });

  it('session_start and session_end are dated by event time: start at the first event, end at the last, with its duration', async () => {
    const { payloads } = await drain(byTime(), { clock: 'event', sessionEvents: true });
    const ends = payloads.filter((p) => eventOf(p)?.schema === SESSION_END_SCHEMA && (eventOf(p)!.data.sessionIndex as number) === 1);
    const starts = payloads.filter((p) => eventOf(p)?.schema === SESSION_START_SCHEMA && (eventOf(p)!.data.sessionIndex as number) === 2);
    const aliceFirst = timelineSessions(BACKLOG.alice!, TIMEOUT_S * 1000)[0]!;
    const aliceEnd = ends.find((p) => eventOf(p)!.data.endedAt === new Date(aliceFirst.at(-1)!).toISOString())!;
    expect(eventOf(aliceEnd)!.data).toMatchObject({ reason: 'timeout', durationMs: aliceFirst.at(-1)! - aliceFirst[0]!, eventCount: aliceFirst.length });
    expect(Number(aliceEnd.ttm)).toBe(aliceFirst.at(-1));
    const aliceSecondStart = timelineSessions(BACKLOG.alice!, TIMEOUT_S * 1000)[1]![0]!;
    expect(starts.some((p) => Number(p.ttm) === aliceSecondStart)).toBe(true);
  });

  it('a late event (older than its session\'s last activity) joins the current session, takes the next index and moves no time', async () => {
    const at = (m: number): [string, number] => ['dave', day1(10, m)];
    // 10:00, 10:20, then 10:05 arrives late, then 10:49: 29 min after 10:20, so still the same session.
    const { payloads, logger } = await drain([at(0), at(20), at(5), at(49)], { clock: 'event' });
    const entities = payloads.map(sessionOf);
    expect(new Set(entities.map((e) => e.sessionId)).size).toBe(1);
    expect(entities.map((e) => e.eventIndex)).toEqual([1, 2, 3, 4]);
    expect(logger.warnings).toEqual([]); // within its session: not worth a warning
  });

  it('a late event older than its whole session still joins it (no index is ever reused), with one warning to order backlogs per key', async () => {
    const { payloads, logger } = await drain(
      [
        ['erin', day2(9, 0)],
        ['erin', day1(9, 0)],
        ['erin', day1(8, 0)],
      ],
      { clock: 'event' },
    );
    expect(new Set(payloads.map((p) => sessionOf(p).sessionId)).size).toBe(1);
    expect(payloads.map((p) => sessionOf(p).eventIndex)).toEqual([1, 2, 3]);
    expect(logger.warnings.filter((w) => /order a backlog by time within each key/.test(w))).toHaveLength(1);
  });

  it('an event dated ahead of the clock counts as now: it cannot hold a session open until real time catches up', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 13, 7));
    const session = await createClientSession({ store: new MemorySessionStore(), foregroundTimeout: TIMEOUT_S, checkInterval: 0, now: clock.now, clock: 'event' });
    const { tracker, payloads } = recordingTracker(session);
    const track = (ttm: number) => tracker.track(buildStructEvent({ category: 'c', action: 'a' }), null, { type: 'ttm', value: ttm });
    track(clock.now() + 365 * 24 * 60 * MINUTE); // a producer's clock a year ahead
    clock.advance(40 * MINUTE);
    track(clock.now());
    expect(payloads.map((p) => sessionOf(p).sessionIndex)).toEqual([1, 2]);
    await session.close();
  });

  it("an event without a true timestamp (ttm) is timed by its device timestamp (dtm), as trackers send it", async () => {
    const clock = manualClock(Date.UTC(2026, 2, 13, 7));
    const session = await createClientSession({ store: new MemorySessionStore(), foregroundTimeout: TIMEOUT_S, checkInterval: 0, now: clock.now, clock: 'event' });
    const { tracker, payloads } = recordingTracker(session);
    const track = (dtm: number) => tracker.track(buildStructEvent({ category: 'c', action: 'a' }), null, { type: 'dtm', value: dtm });
    for (const dtm of [day1(9, 0), day1(9, 20), day1(10, 0) /* 40 min later: past the timeout */]) track(dtm); // one burst: the processing clock stands still
    expect(payloads.every((p) => p.ttm === undefined)).toBe(true);
    expect(payloads.map((p) => [sessionOf(p).sessionIndex, sessionOf(p).eventIndex])).toEqual([[1, 1], [1, 2], [2, 1]]);
    expect(sessionOf(payloads[0]!).firstEventTimestamp).toBe(new Date(day1(9, 0)).toISOString());
    await session.close();
  });

  it('the checker ends no event-time session, however much later the processing clock is; keys are forgotten by event time', async () => {
    const { jest } = await import('@jest/globals');
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const clock = manualClock(Date.UTC(2026, 2, 13, 7));
      const ended: string[] = [];
      const options = { foregroundTimeout: TIMEOUT_S, checkInterval: 15, retention: 3600, now: clock.now, clock: 'event' as const, onSessionEnd: (_: unknown, reason: string) => ended.push(reason) };
      const session = await createClientSession({ store: new MemorySessionStore(), ...options });
      const { tracker, payloads } = recordingTracker(session);
      const track = (key: string, ttm: number) => session.run(key, () => tracker.track(buildStructEvent({ category: 'c', action: 'a' }), null, { type: 'ttm', value: ttm }));
      track('x', day1(9, 0));
      clock.advance(7 * 24 * 60 * MINUTE); // a week of processing time: the wall clock would end it and forget x
      jest.advanceTimersByTime(60_000);
      expect(ended).toEqual([]);
      track('x', day1(9, 20));
      track('x', day1(10, 0));
      const entities = payloads.map(sessionOf);
      expect(entities[1]!.sessionId).toBe(entities[0]!.sessionId);
      expect(entities.map((e) => e.sessionIndex)).toEqual([1, 1, 2]);
      expect(ended).toEqual(['timeout']); // found by x's own next event
      track('y', day1(12, 0)); // event time moves on: x has been idle 2 h, past retention
      jest.advanceTimersByTime(15_000);
      expect(session.getSessionContext('x')).toBeNull();
      expect(session.getSessionContext('y')).not.toBeNull();
      await session.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses an unknown clock, and a shared store (SQLite, Redis: every process decides sessions on its own clock)', async () => {
    await expect(createClientSession({ store: new MemorySessionStore(), clock: 'wall' as never })).rejects.toThrow(/option `clock` must be 'processing' or 'event', got "wall"/);
    // A node-redis client that is never connected: the option is refused before the store is used.
    const store = new RedisSessionStore({ client: createClient({ url: 'redis://127.0.0.1:9' }) as unknown as RedisScriptClient });
    await expect(createClientSession({ store, clock: 'event' })).rejects.toThrow(/`clock: 'event'` needs a store this process owns/);
    await withTempDir(async (dir) => {
      const sqlite = new SqliteSessionStore({ file: join(dir, 'sessions.db') });
      try {
        await expect(createClientSession({ store: sqlite, clock: 'event' })).rejects.toThrow(/`clock: 'event'` needs a store this process owns/);
      } finally {
        await sqlite.close();
      }
    });
  });
});
