import { appendFileSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';

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
  readonly #compacting: string;

  constructor(file: string) {
    this.path = `${file}.reserve`;
    this.#compacting = `${file}.reserve.compacting`;
  }

  /** Every reservation on disk (the journal and one being compacted), highest per key; torn lines are skipped. */
  read(): Map<string, Reservation> {
    const found = new Map<string, Reservation>();
    for (const path of [this.#compacting, this.path]) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      for (const line of text.split('\n')) {
        const entry = parseLine(line);
        if (entry === null) continue;
        const previous = found.get(entry.key);
        if (previous === undefined || previous.sessionId !== entry.sessionId || previous.upTo < entry.upTo) {
          found.set(entry.key, { sessionId: entry.sessionId, upTo: entry.upTo });
        }
      }
    }
    return found;
  }

  append(key: string, reservation: Reservation): void {
    appendFileSync(this.path, `${JSON.stringify({ k: key, s: reservation.sessionId, u: reservation.upTo })}\n`, { mode: 0o600 });
  }

  /** True when the journal should be folded into the session file. */
  isLarge(): boolean {
    try {
      return statSync(this.path).size > COMPACT_BYTES;
    } catch {
      return false;
    }
  }

  /**
   * Starts a compaction: the current journal is set aside, new appends go to a fresh one. Call `finish()`
   * once a session-file write that holds every reservation has landed.
   */
  beginCompaction(): { finish(): void } {
    try {
      renameSync(this.path, this.#compacting);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return { finish: () => rmSync(this.#compacting, { force: true }) };
  }

  /** Removes the journal: only once the session file holds exact indexes (a clean close). */
  clear(): void {
    rmSync(this.#compacting, { force: true });
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
