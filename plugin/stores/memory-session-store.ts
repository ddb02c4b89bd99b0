import type { SessionState } from '../session/state.js';
import type { SessionStore, StorageMechanism } from './session-store.js';

/**
 * Sessions in this process's memory: nothing survives a restart. For tests, short-lived jobs and servers
 * that keep sessions elsewhere. Reports `LOCAL_STORAGE` by default (the schema has no in-memory value).
 */
export class MemorySessionStore implements SessionStore {
  readonly storageMechanism: StorageMechanism;
  readonly access = 'startup';
  #defaultSession: SessionState | null = null;
  readonly #sessions = new Map<string, SessionState>();

  constructor(options: { storageMechanism?: StorageMechanism } = {}) {
    this.storageMechanism = options.storageMechanism ?? 'LOCAL_STORAGE';
  }

  getSession(key?: string): SessionState | null {
    return key === undefined ? this.#defaultSession : (this.#sessions.get(key) ?? null);
  }

  setSession(session: SessionState, key?: string): void {
    if (key === undefined) this.#defaultSession = session;
    else this.#sessions.set(key, session);
  }

  getSessions(): Iterable<[string, SessionState]> {
    return [...this.#sessions];
  }

  deleteSession(key?: string): void {
    if (key === undefined) this.#defaultSession = null;
    else this.#sessions.delete(key);
  }
}
