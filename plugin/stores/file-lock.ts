import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { livenessOf, ownIdentity, type ProcessIdentity } from './process-identity.js';

/** Who holds a lock: the content of its generation file. */
export interface LockHolder extends ProcessIdentity {
  since: string;
}

/** A session file that another live process has open. */
export class SessionStoreLockedError extends Error {
  readonly file: string;
  readonly holder: LockHolder | null;

  constructor(file: string, lockDir: string, holder: LockHolder | null) {
    const who = holder === null ? 'another process' : `process ${holder.pid} on ${holder.hostname} (since ${holder.since})`;
    super(
      `snowplow-client-session: the session file ${file} is in use by ${who}; lock ${lockDir}. ` +
        'Give each process its own file, or share sessions through a RedisSessionStore.',
    );
    this.name = 'SessionStoreLockedError';
    this.file = file;
    this.holder = holder;
  }
}

/** Default `lockStale`: a holder that cannot be checked (another machine or PID namespace) is gone once its heartbeat is this old. */
export const DEFAULT_LOCK_STALE_MS = 15_000;
const GENERATION = /^\d{12}$/;
const MAX_ROUNDS = 8;

type Generation = { number: number; holder: LockHolder | null; released: boolean; mtimeMs: number };

/**
 * An exclusive lock on a session file, in the folder `<file>.lock`. Each holder in turn creates the next
 * numbered generation file there, exclusively (`link`), so two processes that both find the current holder
 * gone cannot both take over: only one creates the next number, and a winner that finds a higher number
 * after creating its own backs off. The highest generation is never removed (a release adds a `released`
 * one), so numbers never repeat.
 *
 * A holder is gone when it ran on this machine, in this boot and PID namespace, and its PID now names no
 * process or one started at another time (a reused PID, a restarted container's PID 1). A holder that
 * cannot be checked (another machine or PID namespace) refreshes its file's mtime every `stale / 3` ms and
 * is gone when that heartbeat stops for `stale` ms; a new holder waits that long at most.
 */
export class FileLock {
  readonly lockDir: string;
  readonly #file: string;
  readonly #stale: number;
  readonly #onLost: (error: Error) => void;
  #mine: string | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #lost: Error | undefined;

  constructor(file: string, options: { stale?: number; onLost?: (error: Error) => void } = {}) {
    this.#file = file;
    this.lockDir = `${file}.lock`;
    this.#stale = options.stale ?? DEFAULT_LOCK_STALE_MS;
    this.#onLost = options.onLost ?? (() => undefined);
  }

  get held(): boolean {
    return this.#mine !== undefined && this.#lost === undefined;
  }

  /** Throws when the lock was taken from this process (its generation file removed or superseded). */
  assertHeld(): void {
    if (this.#lost !== undefined) throw this.#lost;
    if (this.#mine === undefined) throw new Error(`snowplow-client-session: the lock ${this.lockDir} is not held`);
  }

  async acquire(): Promise<void> {
    if (this.#mine !== undefined) return;
    mkdirSync(this.lockDir, { recursive: true, mode: 0o700 });
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const top = this.#highest();
      if (top !== null && !top.released && !(await this.#holderGone(top))) continue;
      const next = (top?.number ?? 0) + 1;
      if (!this.#create(next)) continue; // another process took this number first
      const after = this.#highest();
      if (after !== null && after.number > next) {
        this.#removeGeneration(next); // superseded by a process that read an older state: it holds
        continue;
      }
      this.#mine = name(next);
      this.#removeOlder(next);
      this.#startHeartbeat();
      return;
    }
    throw new SessionStoreLockedError(this.#file, this.lockDir, this.#highest()?.holder ?? null);
  }

  /** Leaves a `released` generation above this one, then removes this one. */
  release(): void {
    clearInterval(this.#heartbeat);
    const mine = this.#mine;
    this.#mine = undefined;
    if (mine === undefined || this.#lost !== undefined) return;
    try {
      this.#create(Number(mine) + 1, true);
      this.#removeGeneration(Number(mine));
    } catch {
      // the folder is gone or read-only: the next holder judges this process by its identity
    }
  }

  /** True when the holder is gone (the caller may take over); false when it is worth another look; throws when it holds. */
  async #holderGone(top: Generation): Promise<boolean> {
    const holder = top.holder;
    if (holder === null) return this.#heartbeatStopped(top); // unreadable: judged by its heartbeat alone
    const liveness = livenessOf(holder);
    if (liveness === 'dead') return true;
    if (liveness === 'unknown') return this.#heartbeatStopped(top);
    throw new SessionStoreLockedError(this.#file, this.lockDir, holder); // 'self' is a second store on the file in this process
  }

  /** Waits (at most `stale` ms) until the generation's heartbeat is `stale` old, or throws when it beats. */
  async #heartbeatStopped(top: Generation): Promise<boolean> {
    const poll = Math.max(25, Math.min(250, this.#stale / 8));
    for (;;) {
      const mtime = this.#mtimeOf(top.number);
      if (mtime === null) return false; // superseded meanwhile: look again
      if (mtime > top.mtimeMs) throw new SessionStoreLockedError(this.#file, this.lockDir, top.holder);
      if (Date.now() - mtime > this.#stale) return true;
      await sleep(poll);
    }
  }

  #startHeartbeat(): void {
    this.#heartbeat = setInterval(() => this.#beat(), Math.max(10, this.#stale / 3));
    this.#heartbeat.unref();
  }

  #beat(): void {
    const mine = this.#mine;
    if (mine === undefined) return;
    try {
      const now = new Date();
      utimesSync(join(this.lockDir, mine), now, now);
      const top = this.#highest();
      if (top !== null && top.number > Number(mine)) throw new Error(`generation ${name(top.number)} was created above this process's ${mine}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== undefined && (error as NodeJS.ErrnoException).code !== 'ENOENT') return; // a read-only moment: beat again later
      clearInterval(this.#heartbeat);
      this.#lost = new Error(`snowplow-client-session: lost the lock ${this.lockDir} on ${this.#file}: ${(error as Error).message}; the file is no longer written by this process`);
      // The whole folder gone (removed with the store's files): the next write fails and is reported then.
      if (statSync(this.lockDir, { throwIfNoEntry: false }) !== undefined) this.#onLost(this.#lost);
    }
  }

  /** Creates generation `number` with its full content in one step; false if it exists. */
  #create(number: number, released = false): boolean {
    const temp = join(this.lockDir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const content: LockHolder & { released?: true } = { ...ownIdentity(), since: new Date().toISOString(), ...(released ? { released: true } : {}) };
    writeFileSync(temp, JSON.stringify(content), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, join(this.lockDir, name(number)));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      unlinkSync(temp);
    }
  }

  #highest(): Generation | null {
    const numbers = readdirSync(this.lockDir).filter((entry) => GENERATION.test(entry)).map(Number);
    if (numbers.length === 0) return null;
    const number = Math.max(...numbers);
    const mtimeMs = this.#mtimeOf(number) ?? Date.now();
    let content: Partial<LockHolder & { released: boolean }> | null = null;
    try {
      content = JSON.parse(readFileSync(join(this.lockDir, name(number)), 'utf8')) as Partial<LockHolder & { released: boolean }>;
    } catch {
      // removed meanwhile or not ours: judged by its heartbeat
    }
    const holder = typeof content?.pid === 'number' && typeof content.hostname === 'string' ? (content as LockHolder) : null;
    return { number, holder, released: content?.released === true, mtimeMs };
  }

  #mtimeOf(number: number): number | null {
    try {
      return statSync(join(this.lockDir, name(number))).mtimeMs;
    } catch {
      return null;
    }
  }

  /** Older generations and temp files left by crashed contenders (a minute old: a live one links within ms). */
  #removeOlder(number: number): void {
    for (const entry of readdirSync(this.lockDir)) {
      if (GENERATION.test(entry) ? Number(entry) < number : entry.startsWith('.tmp-') && (this.#ageOf(entry) ?? 0) > 60_000) {
        try {
          unlinkSync(join(this.lockDir, entry));
        } catch {
          // removed by someone else
        }
      }
    }
  }

  #ageOf(entry: string): number | null {
    try {
      return Date.now() - statSync(join(this.lockDir, entry)).mtimeMs;
    } catch {
      return null;
    }
  }

  #removeGeneration(number: number): void {
    try {
      unlinkSync(join(this.lockDir, name(number)));
    } catch {
      // already gone
    }
  }
}

function name(number: number): string {
  return String(number).padStart(12, '0');
}
