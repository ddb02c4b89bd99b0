import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Low } from 'lowdb';
import type { SessionState } from '../session/state.js';
import { AtomicJsonFile } from './atomic-json-file.js';
import { STORAGE_MECHANISMS, type SessionStore, type StorageMechanism } from './session-store.js';

/** Where `createClientSession()` keeps sessions when no store is given, relative to the working folder. */
export const DEFAULT_STORE_FILE = '.snowplow/client_session.json';

/** The file's layout. `sessions` holds keyed (per-user) sessions; `session` the default one. */
export interface SessionFile {
  version: 1;
  session: SessionState | null;
  sessions: Record<string, SessionState>;
}

export interface LowdbSessionStoreOptions {
  /** The JSON file; its folder is created (mode 0700) when missing. */
  file: string;
  /** Reported in the entity; default `LOCAL_STORAGE` (a local file is the closest of the schema's values). */
  storageMechanism?: StorageMechanism;
}

/**
 * Sessions in a JSON file through lowdb. Reads the file once, then serves from memory; writes replace the
 * file atomically, and all changes made in one event-loop turn share one write.
 */
export class LowdbSessionStore implements SessionStore {
  readonly storageMechanism: StorageMechanism;
  readonly file: string;
  readonly #db: Low<SessionFile>;
  #loaded: Promise<void> | undefined;
  #scheduledWrite: Promise<void> | undefined;
  #lastWrite: Promise<void> | undefined;

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
    this.#db = new Low(new AtomicJsonFile<SessionFile>(this.file), emptyFile());
  }

  async getSession(key?: string): Promise<SessionState | null> {
    await this.#load();
    const data = this.#db.data;
    if (key === undefined) return data.session;
    return Object.hasOwn(data.sessions, key) ? (data.sessions[key] ?? null) : null;
  }

  async setSession(session: SessionState, key?: string): Promise<void> {
    await this.#load();
    if (key === undefined) this.#db.data.session = session;
    else this.#db.data.sessions[key] = session;
    return this.#scheduleWrite();
  }

  async getSessions(): Promise<Iterable<[string, SessionState]>> {
    await this.#load();
    return Object.entries(this.#db.data.sessions);
  }

  async deleteSession(key?: string): Promise<void> {
    await this.#load();
    if (key === undefined) this.#db.data.session = null;
    else delete this.#db.data.sessions[key];
    return this.#scheduleWrite();
  }

  async close(): Promise<void> {
    await this.#lastWrite;
  }

  #load(): Promise<void> {
    this.#loaded ??= (async () => {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      try {
        await this.#db.read();
      } catch (error) {
        throw new Error(`snowplow-client-session: cannot read the session file ${this.file}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      this.#db.data = normalize(this.#db.data, this.file);
    })();
    return this.#loaded;
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

function emptyFile(): SessionFile {
  return { version: 1, session: null, sessions: Object.create(null) as Record<string, SessionState> };
}

/** Keyed sessions go into a prototype-less map, so a key such as `__proto__` is only ever a key. */
function normalize(data: unknown, file: string): SessionFile {
  if (data === null || data === undefined) return emptyFile();
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new Error(`snowplow-client-session: the session file ${file} does not hold a JSON object`);
  }
  const record = data as Partial<SessionFile>;
  const sessions = emptyFile().sessions;
  if (record.sessions !== null && typeof record.sessions === 'object' && !Array.isArray(record.sessions)) {
    for (const [key, value] of Object.entries(record.sessions)) sessions[key] = value;
  }
  return { version: 1, session: record.session ?? null, sessions };
}
