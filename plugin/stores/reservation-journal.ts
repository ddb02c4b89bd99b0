import { closeSync, constants, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';

/** `upTo` is the highest `eventIndex` a process may have emitted for `sessionId` (key `''` = default session). */
export interface Reservation {
  sessionId: string;
  upTo: number;
}

/** Past this size the journal is folded into the session file while running. */
const COMPACT_BYTES = 1024 * 1024;

/**
 * An append-only record of event-index reservations beside a session file (`<file>.reserve`). An append
 * is one small synchronous write, which a killed process cannot lose (it is in the OS's cache before
 * `track()` returns), unlike the session file's asynchronous writes. A new process continues each session
 * after its highest reservation, so no `eventIndex` is ever emitted twice for a session.
 */
export class ReservationJournal {
  readonly path: string;
  readonly compactingPath: string;

  constructor(file: string) {
    this.path = `${file}.reserve`;
    this.compactingPath = `${file}.reserve.compacting`;
  }

  /**
   * Every reservation on disk (the journal and one being compacted): the highest per key and session,
   * so a session that was followed by another keeps its own. Torn lines are skipped.
   */
  read(): Array<{ key: string } & Reservation> {
    const found = new Map<string, { key: string } & Reservation>();
    for (const path of [this.compactingPath, this.path]) {
      let text: string;
      try {
        text = readNoFollow(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      for (const line of text.split('\n')) {
        const entry = parseLine(line);
        if (entry === null) continue;
        const id = `${entry.key}\u0000${entry.sessionId}`;
        if ((found.get(id)?.upTo ?? -1) < entry.upTo) found.set(id, entry);
      }
    }
    return [...found.values()];
  }

  /** One synchronous append, never through a symbolic link planted at the journal's path. */
  append(key: string, reservation: Reservation): void {
    const fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ k: key, s: reservation.sessionId, u: reservation.upTo })}\n`);
    } finally {
      closeSync(fd);
    }
  }

  /** True when the journal should be folded into the session file: past 1 MiB, or `floor` bytes if larger. */
  isLarge(floor = 0): boolean {
    try {
      return statSync(this.path).size > Math.max(COMPACT_BYTES, floor);
    } catch {
      return false;
    }
  }

  /**
   * Starts a compaction: the current journal is set aside, new appends go to a fresh one. Call `finish()`
   * once a session-file write that holds every reservation has landed.
   */
  beginCompaction(): { finish(): void } | null {
    if (statSync(this.compactingPath, { throwIfNoEntry: false }) !== undefined) return null; // one compaction at a time
    try {
      renameSync(this.path, this.compactingPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return { finish: () => rmSync(this.compactingPath, { force: true }) };
  }

  /** Removes the journal: only once the session file holds exact indexes (a clean close). */
  clear(): void {
    rmSync(this.compactingPath, { force: true });
    rmSync(this.path, { force: true });
  }
}

function parseLine(line: string): ({ key: string } & Reservation) | null {
  if (line.trim() === '') return null;
  try {
    const entry = JSON.parse(line) as { k?: unknown; s?: unknown; u?: unknown };
    if (typeof entry.k === 'string' && typeof entry.s === 'string' && Number.isSafeInteger(entry.u)) {
      return { key: entry.k, sessionId: entry.s, upTo: entry.u as number };
    }
  } catch {
    // a line torn by a full disk: skip it
  }
  return null;
}

/** The file's text, never through a symbolic link planted at its path. */
function readNoFollow(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
