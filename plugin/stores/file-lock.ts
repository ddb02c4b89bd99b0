import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who holds a lock: written into the lock file. */
interface LockHolder {
  pid: number;
  hostname: string;
  since: string;
}

/** A session file that another live process has open. */
export class SessionStoreLockedError extends Error {
  readonly file: string;
  readonly holder: LockHolder | null;

  constructor(file: string, lockFile: string, holder: LockHolder | null) {
    const who = holder === null ? 'another process' : `process ${holder.pid} on ${holder.hostname} (since ${holder.since})`;
    super(
      `snowplow-client-session: the session file ${file} is in use by ${who}; lock file ${lockFile}. ` +
        'Give each process its own file, or share sessions through a RedisSessionStore. ' +
        'If that process is gone for good on another machine, delete the lock file.',
    );
    this.name = 'SessionStoreLockedError';
    this.file = file;
    this.holder = holder;
  }
}

/**
 * An exclusive lock on a session file, held by this process until `release()`: `<file>.lock` is created
 * with O_EXCL and names the holder. A lock left by a process that no longer runs on this machine is
 * taken over, so a crash never blocks the next start.
 */
export class FileLock {
  readonly lockFile: string;
  #held = false;

  constructor(private readonly file: string) {
    this.lockFile = `${file}.lock`;
  }

  acquire(): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.#tryCreate()) return;
      const holder = this.#readHolder();
      if (holder !== null && holder.pid === process.pid && holder.hostname === hostname()) {
        throw new SessionStoreLockedError(this.file, this.lockFile, holder); // a second store on the file, in this process
      }
      const stale = holder === null ? this.#unreadableForLong() : isStale(holder);
      if (!stale) throw new SessionStoreLockedError(this.file, this.lockFile, holder);
      try {
        unlinkSync(this.lockFile); // the holder is gone: take over
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    throw new SessionStoreLockedError(this.file, this.lockFile, this.#readHolder());
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      unlinkSync(this.lockFile);
    } catch {
      // already gone: nothing to release
    }
  }

  #tryCreate(): boolean {
    let fd: number;
    try {
      fd = openSync(this.lockFile, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: new Date().toISOString() };
      writeSync(fd, JSON.stringify(holder));
    } finally {
      closeSync(fd);
    }
    this.#held = true;
    return true;
  }

  #readHolder(): LockHolder | null {
    try {
      const holder = JSON.parse(readFileSync(this.lockFile, 'utf8')) as Partial<LockHolder>;
      if (typeof holder.pid === 'number' && typeof holder.hostname === 'string') return { pid: holder.pid, hostname: holder.hostname, since: String(holder.since) };
    } catch {
      // unreadable or half-written: see #unreadableForLong
    }
    return null;
  }

  /** A lock file nobody finished writing (its creator died between open and write) is stale after 10 s. */
  #unreadableForLong(): boolean {
    try {
      return Date.now() - statSync(this.lockFile).mtimeMs > 10_000;
    } catch {
      return true; // gone meanwhile
    }
  }
}

/** A holder is stale when it ran on this machine and its process is gone. Other machines cannot be checked. */
function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
