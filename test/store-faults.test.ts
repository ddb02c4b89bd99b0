import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildStructEvent } from '@snowplow/tracker-core';
import { createClientSession, LowdbSessionStore, MAX_INDEX, type SessionState } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { capturingTracker, manualClock, recordingLogger, sessionOf, withTempDir } from './helpers/capture.js';

const USER = '11111111-2222-4333-8444-555555555555';
const validator = new IgluValidator();
const record = (overrides: Partial<SessionState> = {}): SessionState => ({
  userId: USER,
  sessionId: '22222222-2222-4222-8222-222222222222',
  previousSessionId: null,
  sessionIndex: 3,
  eventIndex: 7,
  firstEventId: '33333333-3333-4333-8333-333333333333',
  firstEventTimestamp: '2026-01-01T12:00:00.000Z',
  startedAt: Date.UTC(2026, 0, 1, 12),
  lastActivityAt: Date.UTC(2026, 0, 1, 12),
  ...overrides,
});

const cutBefore = (text: string, marker: string) => text.slice(0, text.indexOf(marker));

/** Starts the plugin on `content`, tracks one event, and reports what happened. */
async function startOn(content: string | Buffer, now = Date.UTC(2026, 0, 1, 12, 1)) {
  return withTempDir(async (dir) => {
    const file = join(dir, 'client_session.json');
    await writeFile(file, content);
    const logger = recordingLogger();
    const session = await createClientSession({ store: new LowdbSessionStore({ file, logger }), logger, now: () => now, checkInterval: 0 });
    const { tracker, payloads } = capturingTracker(session);
    expect(() => tracker.track(buildStructEvent({ category: 'c', action: 'a' }))).not.toThrow();
    await tracker.flush();
    await session.close();
    const entity = sessionOf(payloads[0]!);
    expect(validator.validateData(CLIENT_SESSION_SCHEMA, entity).valid).toBe(true);
    const files = await readdir(dir);
    const aside = files.filter((f) => f.startsWith('client_session.json.corrupt-'));
    const kept = aside.length === 1 ? await readFile(join(dir, aside[0]!)) : null;
    const copies = await Promise.all(files.filter((f) => f.startsWith('client_session.json.bad-')).map((f) => readFile(join(dir, f), 'utf8')));
    return { entity, warnings: logger.warnings, aside, kept, copies, file, saved: JSON.parse(await readFile(file, 'utf8')) };
  });
}

describe('a corrupt session file', () => {
  it.each([
    // [case, content, userId legible, sessionIndex of the next session (4 when the old identity is legible)]
    ['truncated JSON, mid-sessionId', JSON.stringify({ version: 1, session: record() }).slice(0, 90), true, 1],
    ['truncated JSON, after sessionIndex', cutBefore(JSON.stringify({ version: 1, session: record() }), '"eventIndex"'), true, 4],
    ['a wrong type for sessions', JSON.stringify({ version: 1, session: record(), sessions: 'nope' }), true, 4],
  ])('%s: moved aside, a warning names the file, the userId kept when readable', async (_name, content, userKept, sessionIndex) => {
    const result = await startOn(content);
    expect(result.aside).toHaveLength(1);
    expect(result.kept).toEqual(Buffer.from(content));
    expect(result.warnings[0]).toMatch(new RegExp(`the session file ${result.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is unusable: .*; moved it to .*\\.corrupt-\\d+`));
    expect(result.entity.sessionIndex).toBe(sessionIndex);
    expect(result.entity.previousSessionId).toBe(sessionIndex === 4 ? '22222222-2222-4222-8222-222222222222' : null);
    expect(result.entity.userId === USER).toBe(userKept);
  });

  it('an empty file is a new store: nothing to move aside', async () => {
    const result = await startOn('');
    expect(result.aside).toHaveLength(0);
    expect(result.warnings).toEqual([]);
    expect(result.entity).toMatchObject({ sessionIndex: 1, eventIndex: 1 });
    expect(result.saved.session.userId).toBe(result.entity.userId);
  });

  it.each([
    ['a wrong type for sessionIndex', record({ sessionIndex: '3' as never }), 1],
    ['an out-of-range eventIndex', record({ eventIndex: MAX_INDEX + 1 }), 4],
    ['a time that is not a number', record({ lastActivityAt: Number.NaN as never }), 4],
  ])('%s: the record is ignored with a warning, the userId kept, a new session replaces it', async (_name, bad, sessionIndex) => {
    const result = await startOn(JSON.stringify({ version: 1, session: bad, sessions: {} }));
    expect(result.entity).toMatchObject({ userId: USER, sessionIndex, eventIndex: 1 });
    expect(result.aside).toHaveLength(0); // the file itself was fine
    expect(result.warnings.join('\n')).toMatch(/ignoring the stored session: .*; a new session replaces it \(keeping userId 11111111-2222-4333-8444-555555555555\); a copy of the store as it was is at .*client_session\.json\.bad-\d+$/);
    expect(result.copies).toEqual([JSON.stringify({ version: 1, session: bad, sessions: {} })]);
  });

  it('never lets __proto__ or constructor keys pollute prototypes', async () => {
    const text =
      '{"version":1,"session":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},' +
      `"userId":"${USER}"},"sessions":{"__proto__":{"polluted":true}},"reserved":{"__proto__":{"sessionId":"x","upTo":1}}}`;
    const result = await startOn(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(result.entity.userId).toBe(USER);
    expect(Object.getPrototypeOf(result.saved)).toBe(Object.prototype);
  });
});

describe('limits', () => {
  it('rotates a session at the eventIndex maximum and keeps sessionIndex at its maximum: entities stay valid', async () => {
    const { entity } = await startOn(JSON.stringify({ version: 1, session: record({ eventIndex: MAX_INDEX, sessionIndex: MAX_INDEX }) }));
    expect(entity).toMatchObject({ userId: USER, sessionIndex: MAX_INDEX, eventIndex: 1, previousSessionId: '22222222-2222-4222-8222-222222222222' });
  });

  it.each([
    ['far in the future', Date.UTC(2300, 0, 1)],
    ['far in the past', Date.UTC(1971, 0, 1)],
  ])('handles a stored session last active %s (reason clock or timeout)', async (_name, lastActivityAt) => {
    const ends: string[] = [];
    await withTempDir(async (dir) => {
      const file = join(dir, 's.json');
      await writeFile(file, JSON.stringify({ version: 1, session: record({ lastActivityAt, startedAt: lastActivityAt }) }));
      const session = await createClientSession({ store: new LowdbSessionStore({ file }), checkInterval: 0, onSessionEnd: (_s, reason) => void ends.push(reason) });
      const { tracker, payloads } = capturingTracker(session);
      tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
      await tracker.flush();
      await session.close();
      expect(sessionOf(payloads[0]!)).toMatchObject({ userId: USER, sessionIndex: 4, eventIndex: 1 });
    });
    expect(ends).toEqual([lastActivityAt > Date.now() ? 'clock' : 'timeout']);
  });
});

describe('a failing lowdb store', () => {
  it('tracks from memory while the folder is gone, reports once, rejects flush with the cause, recovers', () =>
    withTempDir(async (dir) => {
      const folder = join(dir, 'state');
      const file = join(folder, 'client_session.json');
      const logger = recordingLogger();
      const errors: unknown[] = [];
      const clock = manualClock();
      const session = await createClientSession({ store: new LowdbSessionStore({ file }), logger, now: clock.now, checkInterval: 0, onError: (e) => void errors.push(e) });
      const { tracker, payloads } = capturingTracker(session);
      tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
      await session.flush();
      await rm(folder, { recursive: true }); // the disk under the app goes away (ENOENT on every write)
      for (let i = 0; i < 3; i++) {
        expect(() => tracker.track(buildStructEvent({ category: 'c', action: 'b' }))).not.toThrow();
        await expect(session.flush()).rejects.toThrow(/ENOENT/);
      }
      expect(logger.errors.filter((m) => m.includes('cannot write the session store'))).toHaveLength(1);
      expect(errors).toHaveLength(1);
      await mkdir(folder, { mode: 0o700 });
      await session.flush();
      expect(JSON.parse(await readFile(file, 'utf8')).session.eventIndex).toBe(4);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      await tracker.flush();
      expect(payloads.map((p) => sessionOf(p).eventIndex)).toEqual([1, 2, 3, 4]);
      await session.close();
    }));

  it('creates its lock and journal owner-only, and leaves only a released lock after close()', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const session = await createClientSession({ store: new LowdbSessionStore({ file }), checkInterval: 0 });
      const { tracker } = capturingTracker(session);
      tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
      expect((await stat(`${file}.reserve`)).mode & 0o777).toBe(0o600);
      expect((await stat(`${file}.lock`)).mode & 0o777).toBe(0o700);
      const [generation] = await readdir(`${file}.lock`);
      expect((await stat(join(`${file}.lock`, generation!))).mode & 0o777).toBe(0o600);
      await session.close();
      expect((await readdir(dir)).sort()).toEqual(['client_session.json', 'client_session.json.lock']);
      const released = await readdir(`${file}.lock`);
      expect(released).toHaveLength(1);
      expect(JSON.parse(await readFile(join(`${file}.lock`, released[0]!), 'utf8'))).toMatchObject({ released: true, pid: process.pid });
      const saved = JSON.parse(await readFile(file, 'utf8'));
      expect(saved.session.eventIndex).toBe(1); // exact after a clean close: no gap on restart
    }));
});
