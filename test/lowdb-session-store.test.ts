import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import { buildStructEvent } from '@snowplow/tracker-core';
import { createClientSession, LowdbSessionStore, type SessionState } from '../plugin/index.js';
import { capturingTracker, manualClock, sessionOf, withTempDir } from './helpers/capture.js';

const MINUTE = 60_000;

/** One "process": a new store instance on the file, a new session and a new real tracker. */
async function start(file: string, clock: ReturnType<typeof manualClock>) {
  const session = await createClientSession({ store: new LowdbSessionStore({ file }), now: clock.now });
  const { tracker, payloads } = capturingTracker(session);
  return {
    session,
    payloads,
    track: () => tracker.track(buildStructEvent({ category: 'c', action: 'a' })),
    stop: async () => {
      await tracker.flush();
      await session.close();
    },
  };
}

describe('LowdbSessionStore', () => {
  it('continues the stored session in a new process when it has not timed out', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'nested', 'client_session.json');
      const clock = manualClock();
      const first = await start(file, clock);
      first.track();
      first.track();
      await first.stop();

      clock.advance(5 * MINUTE);
      const second = await start(file, clock);
      second.track();
      await second.stop();

      const before = sessionOf(first.payloads[1]!);
      const after = sessionOf(second.payloads[0]!);
      expect(after).toEqual({ ...before, eventIndex: 3 });
    }));

  it('rotates in a new process when the stored session has timed out, keeping the userId', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const clock = manualClock();
      const first = await start(file, clock);
      first.track();
      await first.stop();

      clock.advance(10 * MINUTE + 1);
      const second = await start(file, clock);
      second.track();
      await second.stop();

      const before = sessionOf(first.payloads[0]!);
      expect(sessionOf(second.payloads[0]!)).toMatchObject({
        userId: before.userId,
        sessionIndex: 2,
        eventIndex: 1,
        previousSessionId: before.sessionId,
        firstEventId: second.payloads[0]!.eid,
      });
    }));

  it('keeps the state in a complete JSON file, owner-only, after flush()', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'private', 'client_session.json');
      const clock = manualClock();
      const run = await start(file, clock);
      run.track();
      await run.session.flush();
      const saved = JSON.parse(await readFile(file, 'utf8')) as { session: SessionState };
      const { storageMechanism, ...fields } = run.session.getSessionContext()!;
      expect(storageMechanism).toBe('LOCAL_STORAGE'); // a property of the store, not of the record
      expect(saved.session).toMatchObject({ ...fields, lastActivityAt: clock.now() });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'private'))).mode & 0o777).toBe(0o700);
      await run.stop();
      expect((await readdir(join(dir, 'private'))).sort()).toEqual(['client_session.json', 'client_session.json.lock']); // no temp files left
    }));

  it('reaches the file soon after tracking, without flush()', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const clock = manualClock();
      const run = await start(file, clock);
      for (let i = 0; i < 50; i++) run.track();
      // One event-loop turn for the write to start, then the write itself.
      for (let i = 0; i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const text = await readFile(file, 'utf8').catch(() => '');
        if (text.includes('"eventIndex":50')) break;
      }
      expect(JSON.parse(await readFile(file, 'utf8')).session.eventIndex).toBe(50);
      await run.stop();
    }));

  it('writes the latest state last when changes arrive during a write', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const store = new LowdbSessionStore({ file });
      const base = { userId: '11111111-1111-4111-8111-111111111111', sessionId: '22222222-2222-4222-8222-222222222222', previousSessionId: null, sessionIndex: 1, firstEventId: null, firstEventTimestamp: null, startedAt: 0, lastActivityAt: 0 };
      const writes: Array<Promise<void>> = [];
      for (let i = 1; i <= 20; i++) {
        writes.push(store.setSession({ ...base, eventIndex: i }));
        if (i % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(writes);
      await store.close();
      expect(JSON.parse(await readFile(file, 'utf8')).session.eventIndex).toBe(20);
      const reopened = new LowdbSessionStore({ file });
      expect((await reopened.getSession())?.eventIndex).toBe(20);
      await reopened.close();
    }));

  it('refuses an empty file option with an error naming the option', () => {
    expect(() => new LowdbSessionStore({ file: '' })).toThrow('snowplow-client-session: LowdbSessionStore option `file` must be a non-empty path string');
  });

  it('paces writes to one per writeInterval under steady traffic, and flush() writes at once', () =>
    withTempDir(async (dir) => {
      jest.useFakeTimers({ doNotFake: ['setImmediate'] }); // the interval is faked, the file I/O is real
      try {
        const store = new LowdbSessionStore({ file: join(dir, 's.json') });
        const session = await createClientSession({ store, writeInterval: 1, checkInterval: 0 });
        const { tracker } = capturingTracker(session);
        const track = () => tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
        const turns = async (n: number) => {
          for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
        };
        // Polls with a real I/O round trip each time, so the store's real writes get the time they need.
        const until = async (done: () => boolean) => {
          for (let i = 0; i < 2000 && !done(); i++) await stat(dir);
        };
        track();
        await until(() => store.stats().writes === 1); // the first change is written in the next turn
        for (let request = 0; request < 20; request++) {
          track(); // one event per event-loop turn, as a server sees them
          await turns(5);
        }
        expect(store.stats().writes).toBe(1);
        jest.advanceTimersByTime(1000);
        await until(() => store.stats().writes === 2);
        expect(store.stats().writes).toBe(2);
        track();
        await session.flush(); // no waiting for the interval
        expect(store.stats().writes).toBe(3);
        await session.close();
      } finally {
        jest.useRealTimers();
      }
    }));
});
