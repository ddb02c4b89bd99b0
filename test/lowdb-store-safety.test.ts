import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, jest } from '@jest/globals';
import { buildStructEvent } from '@snowplow/tracker-core';
import { createClientSession, LowdbSessionStore, SessionStoreForeignFileError, SessionStoreLockedError } from '../plugin/index.js';
import { ownIdentity } from '../plugin/stores/process-identity.js';
import { emptyDocument, SessionDocumentFile, tempPathFor } from '../plugin/stores/session-document.js';
import { capturingTracker, recordingLogger, sessionOf, withTempDir } from './helpers/capture.js';
import { kill, startApp } from './helpers/processes.js';
import { withTmpfs } from './helpers/tmpfs.js';

const RACE_WORKER = fileURLToPath(new URL('./fixtures/lock-race-worker.mjs', import.meta.url));
const RACES = 100;
/** A process start, generously bounded for a busy 2-core machine. */
const START_MS = 15_000;

/** Writes generation 1 of a lock naming `pid` with `startTime`, as seen from this machine, boot and PID namespace. */
async function plantLock(file: string, pid: number, startTime: string | null): Promise<void> {
  await mkdir(`${file}.lock`, { recursive: true });
  await writeFile(join(`${file}.lock`, '000000000001'), JSON.stringify({ ...ownIdentity(), pid, startTime, since: '2026-01-01T00:00:00.000Z' }));
}

function holderOf(file: string): { pid: number; released?: boolean; pidNamespace: string | null } {
  const generations = readdirSync(`${file}.lock`).filter((entry) => /^\d{12}$/.test(entry)).sort();
  return JSON.parse(readFileSync(join(`${file}.lock`, generations.at(-1)!), 'utf8'));
}

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

async function startSession(file: string, logger = recordingLogger()) {
  const session = await createClientSession({ store: new LowdbSessionStore({ file, logger }), logger, checkInterval: 0 });
  const { tracker, payloads } = capturingTracker(session);
  const track = () => tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
  return { session, tracker, payloads, track, logger };
}

/** A first run on the file: one event, then a clean close. Returns its entity. */
async function trackOnce(file: string) {
  const run = await startSession(file);
  run.track();
  await run.tracker.flush();
  await run.session.close();
  return sessionOf(run.payloads[0]!);
}

describe('the lock survives PID reuse and containers', () => {
  it(
    'a SIGKILLed PID 1 in a PID namespace (unshare) restarts over its own lock and continues its session',
    () =>
      withTempDir(async (dir) => {
        const file = join(dir, 'client_session.json');
        const inNamespace = { prefix: ['unshare', '--pid', '--fork', '--kill-child'], env: { LOCK_STALE: '2000' } };
        const first = await startApp(['session', file], inNamespace);
        const [word, userId, sessionId, index, hostPid] = first.firstLine.split(' ');
        expect(word).toBe('ready');
        expect(holderOf(file)).toMatchObject({ pid: 1 }); // PID 1 of its own namespace, as in a container
        expect(holderOf(file).pidNamespace).not.toBe(ownIdentity().pidNamespace);
        await kill(first); // --kill-child: PID 1 gets SIGKILL with unshare
        while (isRunning(Number(hostPid))) await sleep(10); // bounded by the test's timeout
        const second = await startApp(['session', file], inNamespace);
        const [again, sameUser, sameSession, nextIndex] = second.firstLine.split(' ');
        expect([again, sameUser, sameSession]).toEqual(['ready', userId, sessionId]);
        expect(Number(nextIndex)).toBeGreaterThan(Number(index));
        expect(holderOf(file)).toMatchObject({ pid: 1 });
        await kill(second);
      }),
    3 * START_MS,
  );

  it('takes over a lock whose PID now names another, live process (a reused PID), and refuses the true holder', () =>
    withTempDir(async (dir) => {
      const sleeper = spawn('sleep', ['60']);
      try {
        const reused = join(dir, 'reused.json');
        await plantLock(reused, sleeper.pid!, '1'); // the holder started at tick 1: `sleep` is another process
        const { session } = await startSession(reused);
        expect(holderOf(reused)).toMatchObject({ pid: process.pid });
        await session.close();

        const held = join(dir, 'held.json');
        await plantLock(held, sleeper.pid!, startTimeOf(sleeper.pid!));
        const refused = createClientSession({ store: new LowdbSessionStore({ file: held }), checkInterval: 0 });
        await expect(refused).rejects.toThrow(SessionStoreLockedError);
        await expect(refused).rejects.toThrow(`the session file ${held} is in use by process ${sleeper.pid} on`);
      } finally {
        sleeper.kill('SIGKILL');
      }
    }));

  it('takes over a lock naming its own PID with another start time (a restarted container finds itself named)', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      await plantLock(file, process.pid, 'earlier');
      const { session } = await startSession(file);
      expect(holderOf(file)).toMatchObject({ pid: process.pid });
      await session.close();
    }));

  it(
    `two processes taking over one abandoned lock: exactly one holds it, every time (${RACES} races)`,
    () =>
      withTempDir(async (dir) => {
        const workers = [startWorker(), startWorker()];
        try {
          for (let race = 0; race < RACES; race++) {
            const file = join(dir, `race-${race}.json`);
            await plantLock(file, process.pid, 'a reused PID');
            for (const worker of workers) worker.child.stdin.write(`go ${file}\n`);
            const answers = await Promise.all(workers.map((worker) => worker.nextLine()));
            expect(answers.sort()).toEqual(['lost SessionStoreLockedError', 'won']);
            expect(workers.map((worker) => worker.child.pid)).toContain(holderOf(file).pid);
          }
        } finally {
          for (const worker of workers) worker.child.kill('SIGKILL');
        }
      }),
    2 * START_MS + RACES * 1000,
  );
});

describe('a lock taken away', () => {
  it('is noticed by the next heartbeat, logged once, and the store stops writing', () =>
    withTempDir(async (dir) => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }); // the heartbeat's interval; file I/O is real
      try {
        const file = join(dir, 'client_session.json');
        const logger = recordingLogger();
        const session = await createClientSession({ store: new LowdbSessionStore({ file, logger, lockStale: 3000 }), logger, checkInterval: 0 });
        const { tracker } = capturingTracker(session);
        await writeFile(join(`${file}.lock`, '000000000099'), JSON.stringify({ ...ownIdentity(), pid: 1, startTime: null, since: 'now' }));
        jest.advanceTimersByTime(1000); // one heartbeat (lockStale / 3)
        jest.advanceTimersByTime(1000);
        expect(logger.warnings).toEqual([expect.stringMatching(/^snowplow-client-session: lost the lock .*client_session\.json\.lock on .*: generation 000000000099 was created above this process's \d{12}; the file is no longer written by this process$/)]);
        tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
        await expect(session.flush()).rejects.toThrow('lost the lock');
        session.close().catch(() => undefined);
      } finally {
        jest.useRealTimers();
      }
    }));
});

describe('never overwrites what is not a session document', () => {
  it.each([
    ['a copy of package.json', readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)))],
    ['a copy of tsconfig.json', readFileSync(fileURLToPath(new URL('../tsconfig.json', import.meta.url)))],
    ['{"foo":1}', Buffer.from('{"foo":1}')],
    ['{}', Buffer.from('{}')],
    ['an array', Buffer.from('[1,2,3]')],
    ['random bytes', Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22, 0x9f, 0x10])],
  ])('%s: refused with an error naming the file, and nothing written', (_name, content) =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      await writeFile(file, content, { mode: 0o644 });
      const started = createClientSession({ store: new LowdbSessionStore({ file }), checkInterval: 0 });
      await expect(started).rejects.toThrow(SessionStoreForeignFileError);
      await expect(started).rejects.toThrow(`snowplow-client-session: ${file} is not a session file of this package`);
      expect(await readFile(file)).toEqual(content);
      expect((await stat(file)).mode & 0o777).toBe(0o644);
      expect(await readdir(dir)).toEqual(['client_session.json']);
    }),
  );
});

describe('recovers from failures at start-up', () => {
  it('a read-only folder at start: the stored session continues; once writable, the next write succeeds and flush() resolves', () =>
    withTmpfs(1024, async (dir, setReadOnly) => {
      const file = join(dir, 'client_session.json');
      const stored = await trackOnce(file);

      setReadOnly(true);
      const run = await startSession(file);
      for (let i = 0; i < 10; i++) run.track();
      await run.tracker.flush();
      expect(sessionOf(run.payloads[0]!)).toMatchObject({ userId: stored.userId, sessionId: stored.sessionId, eventIndex: 2 });
      await expect(run.session.flush()).rejects.toThrow('EROFS');
      await expect(run.session.flush()).rejects.toThrow('EROFS');
      // One line per failing part for the whole streak (not per event or write), each with its cause.
      expect(run.logger.errors).toEqual([
        expect.stringMatching(/^snowplow-client-session: cannot reserve event indexes in the store .*: EROFS: read-only file system, open '.*\.reserve'$/),
        expect.stringMatching(/^snowplow-client-session: cannot write the session store; .*: EROFS: read-only file system, open '.*'$/),
      ]);

      setReadOnly(false);
      await run.session.flush();
      expect(JSON.parse(await readFile(file, 'utf8')).session).toMatchObject({ userId: stored.userId, eventIndex: 11 });
      expect(holderOf(file)).toMatchObject({ pid: process.pid });
      expect(holderOf(file).released).toBeUndefined();
      await run.session.close();
    }));

  it('a full disk at start: the stored session continues; once space is freed, flush() resolves and the file is written', () =>
    withTmpfs(256, async (dir) => {
      const file = join(dir, 'client_session.json');
      const stored = await trackOnce(file);

      const filler = join(dir, 'filler');
      await writeFile(filler, Buffer.alloc(1024 * 1024)).catch(() => undefined); // ENOSPC once the disk is full
      const run = await startSession(file);
      run.track();
      await run.tracker.flush();
      expect(sessionOf(run.payloads[0]!)).toMatchObject({ userId: stored.userId, sessionId: stored.sessionId, eventIndex: 2 });
      await expect(run.session.flush()).rejects.toThrow('ENOSPC');

      await rm(filler);
      await run.session.flush();
      expect(JSON.parse(await readFile(file, 'utf8')).session).toMatchObject({ userId: stored.userId, eventIndex: 2 });
      await run.session.close();
    }));
});

describe('symbolic links', () => {
  it('a link planted at the temp path is not followed: the write fails and its target is untouched', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const victim = join(dir, 'victim.txt');
      await writeFile(victim, 'precious');
      await symlink(victim, tempPathFor(file, 'planted'));
      const document = new SessionDocumentFile(file, undefined, () => 'planted');
      await expect(document.write(emptyDocument())).rejects.toThrow('EEXIST');
      expect(await readFile(victim, 'utf8')).toBe('precious');
      expect((await readdir(dir)).sort()).toEqual(['.client_session.json.planted.tmp', 'victim.txt']);
    }));

  it("a link at the journal's path is removed, not followed, with a warning", () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const victim = join(dir, 'victim.txt');
      await writeFile(victim, 'precious');
      await symlink(victim, `${file}.reserve`);
      const run = await startSession(file);
      run.track();
      await run.session.flush();
      expect(await readFile(victim, 'utf8')).toBe('precious');
      expect(lstatSync(`${file}.reserve`).isFile()).toBe(true);
      expect(run.logger.warnings).toEqual([`snowplow-client-session: ${file}.reserve was a symbolic link, not a file of this store; removed the link (its target is untouched)`]);
      await run.session.close();
    }));

  it('a journal path that turns into a link while running: appends fail without touching the target, one error line for 1000 events', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const victim = join(dir, 'victim.txt');
      await writeFile(victim, 'precious');
      const run = await startSession(file);
      run.track();
      await run.session.flush();
      await rm(`${file}.reserve`);
      await symlink(victim, `${file}.reserve`);
      for (let i = 0; i < 1000; i++) run.track();
      expect(await readFile(victim, 'utf8')).toBe('precious');
      expect(run.logger.errors).toHaveLength(1);
      expect(run.logger.errors[0]).toMatch(/^snowplow-client-session: cannot reserve event indexes in the store .*: ELOOP/);
      await rm(`${file}.reserve`);
      run.track();
      expect(run.logger.warnings).toEqual(['snowplow-client-session: event indexes are reserved in the store again']);
      await run.session.close();
    }));

  it('a symlinked store path is followed: the target holds the document and the link stays; a dangling link gets its target', () =>
    withTempDir(async (dir) => {
      await mkdir(join(dir, 'data'));
      for (const [link, target, existing] of [
        ['linked.json', 'data/sessions.json', true],
        ['dangling.json', 'data/new.json', false],
      ] as const) {
        if (existing) await writeFile(join(dir, target), '');
        await symlink(target, join(dir, link));
        const run = await startSession(join(dir, link));
        run.track();
        await run.session.close();
        expect(await readlink(join(dir, link))).toBe(target);
        expect(JSON.parse(await readFile(join(dir, target), 'utf8')).session.eventIndex).toBe(1);
        expect(holderOf(join(dir, target)).released).toBe(true);
      }
    }));
});

describe('a corrupt document moved aside', () => {
  it('is replaced by a document holding the salvaged identity, so a second crash keeps the userId too', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const { userId } = await trackOnce(file);
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.slice(0, text.indexOf('"eventIndex"'))); // cut short: no complete header
      const second = await startSession(file);
      await second.session.close();
      expect(JSON.parse(await readFile(file, 'utf8')).session).toMatchObject({ userId });
    }));
});

describe('leftovers', () => {
  it('removes the temp files a crashed process left beside the file', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      await writeFile(join(dir, '.client_session.json.4242.1.tmp'), '');
      await writeFile(join(dir, '.client_session.json.0a1b2c3d4e5f.tmp'), '{"version":1');
      await writeFile(join(dir, '.other.json.1.tmp'), 'not ours');
      const run = await startSession(file);
      run.track();
      await run.session.close();
      expect((await readdir(dir)).sort()).toEqual(['.other.json.1.tmp', 'client_session.json', 'client_session.json.lock']);
    }));
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startWorker(): { child: ChildProcessWithoutNullStreams; nextLine: () => Promise<string> } {
  const child = spawn(process.execPath, [RACE_WORKER], { stdio: 'pipe' });
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter === undefined) lines.push(line);
    else waiter(line);
  });
  const nextLine = () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise<string>((resolve) => waiting.push(resolve)));
  return { child, nextLine };
}
