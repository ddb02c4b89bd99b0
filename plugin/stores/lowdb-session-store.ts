import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LOG } from '@snowplow/tracker-core';
import { Low } from 'lowdb';
import type { SessionState } from '../session/state.js';
import { AtomicJsonFile } from './atomic-json-file.js';
import { FileLock } from './file-lock.js';
import { ReservationJournal, type Reservation } from './reservation-journal.js';
import { STORAGE_MECHANISMS, type SessionStore, type StorageMechanism } from './session-store.js';

/** Where `createClientSession()` keeps sessions when no store is given, relative to the working folder. */
export const DEFAULT_STORE_FILE = '.snowplow/client_session.json';

/** The file's layout. `sessions` holds keyed (per-user) sessions; `session` the default one. */
export interface SessionFile {
  version: 1;
  session: SessionState | null;
  sessions: Record<string, SessionState>;
  /** Event-index reservations folded in from the journal, by key (`''` = the default session). */
  reserved: Record<string, Reservation>;
}

export interface LowdbSessionStoreOptions {
  /** The JSON file; its folder is created (mode 0700) when missing. */
  file: string;
  /** Reported in the entity; default `LOCAL_STORAGE` (a local file is the closest of the schema's values). */
  storageMechanism?: StorageMechanism;
  /** Where warnings about the file go (a corrupt file moved aside). Default: tracker-core's logger. */
  logger?: { warn(message: string): void };
}

const DEFAULT_KEY = '';
/** How many reservations between checks of the journal's size. */
const COMPACTION_CHECK_EVERY = 1000;
const USER_ID = /^(?:[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}|[0-9a-f]{16})$/;

/**
 * Sessions in a JSON file through lowdb. One process at a time holds the file (a lock file names it).
 * The file is read once, then served from memory; writes replace it atomically, and all changes made in
 * one event-loop turn share one write. Event-index reservations go to a small synchronous journal, so a
 * killed process never makes the next one repeat an `eventIndex`.
 */
export class LowdbSessionStore implements SessionStore {
  readonly storageMechanism: StorageMechanism;
  readonly file: string;
  readonly #db: Low<SessionFile>;
  readonly #file: AtomicJsonFile<SessionFile>;
  readonly #lock: FileLock;
  readonly #journal: ReservationJournal;
  readonly #logger: { warn(message: string): void };
  #loaded: Promise<void> | undefined;
  #scheduledWrite: Promise<void> | undefined;
  #lastWrite: Promise<void> | undefined;
  #reservationsSinceCheck = 0;
  #reservations = 0;

  constructor(options: LowdbSessionStoreOptions) {
    if (typeof options?.file !== 'string' || options.file.trim() === '') {
      throw new TypeError('snowplow-client-session: LowdbSessionStore option `file` must be a non-empty path string');
    }
    const mechanism = options.storageMechanism ?? 'LOCAL_STORAGE';
    if (!STORAGE_MECHANISMS.includes(mechanism)) {
      throw new RangeError(
        `snowplow-client-session: LowdbSessionStore option \`storageMechanism\` must be one of ${STORAGE_MECHANISMS.join(', ')}`,
      );
    }
    this.storageMechanism = mechanism;
    this.file = resolve(options.file);
    this.#file = new AtomicJsonFile<SessionFile>(this.file);
    this.#db = new Low(this.#file, emptyFile());
    this.#lock = new FileLock(this.file);
    this.#journal = new ReservationJournal(this.file);
    this.#logger = options.logger ?? LOG;
  }

  async getSession(key?: string): Promise<SessionState | null> {
    await this.#load();
    const data = this.#db.data;
    if (key === undefined) return data.session;
    return Object.hasOwn(data.sessions, key) ? (data.sessions[key] ?? null) : null;
  }

  async getSessions(): Promise<Iterable<[string, SessionState]>> {
    await this.#load();
    const sessions = this.#db.data.sessions;
    return (function* () {
      for (const key in sessions) yield [key, sessions[key]!] as [string, SessionState]; // a prototype-less map: own keys only
    })();
  }

  async setSession(session: SessionState, key?: string): Promise<void> {
    await this.#load();
    if (key === undefined) this.#db.data.session = session;
    else this.#db.data.sessions[key] = session;
    return this.#scheduleWrite();
  }

  async deleteSession(key?: string): Promise<void> {
    await this.#load();
    if (key === undefined) this.#db.data.session = null;
    else delete this.#db.data.sessions[key];
    delete this.#db.data.reserved[key ?? DEFAULT_KEY];
    return this.#scheduleWrite();
  }

  /** Synchronously records that `sessionId` may use event indexes up to `upTo` (called from `track()`). */
  reserveEventIndex(sessionId: string, upTo: number, key?: string): void {
    const reservation = { sessionId, upTo };
    this.#journal.append(key ?? DEFAULT_KEY, reservation);
    this.#reservations++;
    this.#db.data.reserved[key ?? DEFAULT_KEY] = reservation;
    if (++this.#reservationsSinceCheck >= COMPACTION_CHECK_EVERY) {
      this.#reservationsSinceCheck = 0;
      if (this.#journal.isLarge()) {
        // The next write holds every reservation made so far; once it lands the old journal can go.
        const compaction = this.#journal.beginCompaction();
        this.#scheduleWrite().then(compaction.finish, () => undefined);
      }
    }
  }

  /** What this store has written so far: whole-file writes, their bytes, and journal appends. */
  stats(): { writes: number; bytesWritten: number; reservations: number } {
    return { writes: this.#file.writes, bytesWritten: this.#file.bytesWritten, reservations: this.#reservations };
  }

  /**
   * Writes the exact indexes (no reservations left, so a clean restart continues without a gap), removes
   * the journal and releases the lock.
   */
  async close(): Promise<void> {
    if (this.#loaded === undefined) return;
    await this.#loaded;
    if (Object.keys(this.#db.data.reserved).length > 0) {
      this.#db.data.reserved = emptyFile().reserved;
      await this.#scheduleWrite();
    } else {
      await this.#lastWrite; // nothing to add: the last write already holds the exact indexes
    }
    this.#journal.clear();
    this.#lock.release();
  }

  #load(): Promise<void> {
    this.#loaded ??= (async () => {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      this.#lock.acquire();
      try {
        const { data, movedAside } = await this.#readDocument();
        this.#db.data = data;
        const reserved = this.#applyReservations();
        if (movedAside || reserved) {
          // Save what was salvaged (the file is gone) or fold the journal in, then start a fresh journal.
          await this.#scheduleWrite();
          this.#journal.clear();
        }
      } catch (error) {
        this.#lock.release();
        this.#loaded = undefined; // an I/O failure is retried by the next call
        throw error;
      }
    })();
    return this.#loaded;
  }

  /** The document, or an empty one after moving an unreadable file aside (its userId kept when legible). */
  /**
   * The document, or an empty one after moving an unreadable file aside. Single records are not checked
   * here: the plugin checks every record it reads (and warns about the ones it cannot use).
   */
  async #readDocument(): Promise<{ data: SessionFile; movedAside: boolean }> {
    try {
      await this.#db.read();
      const data = this.#db.data as unknown;
      if (data === null || data === undefined) return { data: emptyFile(), movedAside: false };
      const problem = shapeProblem(data);
      if (problem === null) return { data: normalize(data as Partial<SessionFile>), movedAside: false };
      return { data: await this.#moveAside(problem, await readFile(this.file, 'utf8')), movedAside: true };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      const text = await readFile(this.file, 'utf8').catch(() => '');
      return { data: await this.#moveAside(`it is not valid JSON (${error.message})`, text), movedAside: true };
    }
  }

  async #moveAside(problem: string, text: string): Promise<SessionFile> {
    const aside = `${this.file}.corrupt-${Date.now()}`;
    await rename(this.file, aside);
    const salvaged = salvageDefaultSession(text);
    const kept = salvaged?.userId ?? null;
    this.#logger.warn(
      `snowplow-client-session: the session file ${this.file} is unusable: ${problem}; moved it to ${aside} and started afresh` +
        (kept === null ? '' : ` (keeping userId ${kept})`),
    );
    const data = emptyFile();
    // The plugin keeps the userId (and the session's identity, to continue the chain) and opens a new session.
    if (salvaged !== null) data.session = salvaged as SessionState;
    return data;
  }

  /** Continues each session after its highest reservation. Returns whether there were any. */
  #applyReservations(): boolean {
    const data = this.#db.data;
    const reservations = new Map(Object.entries(data.reserved));
    for (const [key, reservation] of this.#journal.read()) {
      const known = reservations.get(key);
      if (known === undefined || known.sessionId !== reservation.sessionId || known.upTo < reservation.upTo) reservations.set(key, reservation);
    }
    for (const [key, { sessionId, upTo }] of reservations) {
      const record = key === DEFAULT_KEY ? data.session : Object.hasOwn(data.sessions, key) ? data.sessions[key] : undefined;
      if (record?.sessionId === sessionId && Number.isInteger(record.eventIndex) && record.eventIndex < upTo) record.eventIndex = upTo;
    }
    data.reserved = emptyFile().reserved;
    return reservations.size > 0;
  }

  /**
   * One write for every change made until that write starts; writes run one at a time, so an older
   * document can never be renamed over a newer one.
   */
  #scheduleWrite(): Promise<void> {
    if (this.#scheduledWrite === undefined) {
      const previous = this.#lastWrite;
      const write = (async () => {
        await new Promise<void>((done) => setImmediate(done));
        await previous?.catch(() => undefined);
        this.#scheduledWrite = undefined; // changes from here on belong to the next write
        await this.#db.write();
      })();
      this.#scheduledWrite = write;
      this.#lastWrite = write;
    }
    return this.#scheduledWrite;
  }
}

/**
 * The default session's identity from the text of a broken file, when legible: its record is written
 * first, with userId, sessionId and sessionIndex before anything else, and holds no nested objects.
 */
function salvageDefaultSession(text: string): Pick<SessionState, 'userId'> & Partial<SessionState> | null {
  const start = text.search(/"session"\s*:\s*\{/);
  if (start === -1) return null;
  const body = text.slice(start, text.indexOf('}', start) === -1 ? undefined : text.indexOf('}', start));
  const userId = /"userId"\s*:\s*"([^"]*)"/.exec(body)?.[1];
  if (userId === undefined || !USER_ID.test(userId)) return null;
  const sessionId = /"sessionId"\s*:\s*"([^"]*)"/.exec(body)?.[1];
  const sessionIndex = /"sessionIndex"\s*:\s*(\d+)/.exec(body)?.[1];
  return { userId, ...(sessionId === undefined ? {} : { sessionId }), ...(sessionIndex === undefined ? {} : { sessionIndex: Number(sessionIndex) }) };
}

function emptyFile(): SessionFile {
  return {
    version: 1,
    session: null,
    sessions: Object.create(null) as Record<string, SessionState>,
    reserved: Object.create(null) as Record<string, Reservation>,
  };
}

function shapeProblem(data: unknown): string | null {
  if (typeof data !== 'object' || Array.isArray(data)) return 'it does not hold a JSON object';
  const record = data as Record<string, unknown>;
  for (const field of ['session', 'sessions', 'reserved']) {
    const value = record[field];
    if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) return `"${field}" is not an object`;
  }
  return null;
}

/**
 * Keyed sessions and reservations become prototype-less maps (in place: a 100k-session file is not
 * copied), so a key such as `__proto__` is only ever a key.
 */
function normalize(record: Partial<SessionFile>): SessionFile {
  const data = emptyFile();
  data.session = record.session ?? null;
  if (record.sessions !== undefined && record.sessions !== null) data.sessions = Object.setPrototypeOf(record.sessions, null) as Record<string, SessionState>;
  for (const [key, value] of Object.entries(record.reserved ?? {})) {
    if (typeof value?.sessionId === 'string' && Number.isSafeInteger(value.upTo)) data.reserved[key] = value;
  }
  return data;
}
