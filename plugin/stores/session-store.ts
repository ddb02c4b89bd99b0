import type { SessionState } from '../session/state.js';

/** The `storageMechanism` values the `client_session` schema allows. */
export const STORAGE_MECHANISMS = ['SQLITE', 'COOKIE_1', 'COOKIE_3', 'LOCAL_STORAGE', 'FLASH_LSO'] as const;
export type StorageMechanism = (typeof STORAGE_MECHANISMS)[number];

export type MaybePromise<T> = T | Promise<T>;

/**
 * Where sessions live between events and processes: the C++ tracker's `SessionStore`
 * (get/set/delete on the session's JSON form), sync or async. `key` is undefined for the default
 * session and a string for keyed (per-user) sessions.
 *
 * What `getSession` returns is checked before use: a store may hand back anything it read from disk.
 */
export interface SessionStore {
  /** Reported in every `client_session` entity. */
  readonly storageMechanism: StorageMechanism;
  getSession(key?: string): MaybePromise<SessionState | null | undefined>;
  setSession(session: SessionState, key?: string): MaybePromise<void>;
  deleteSession(key?: string): MaybePromise<void>;
  /**
   * Every keyed session, for `sessionKey`: `beforeTrack` is synchronous, so keyed sessions are read once at
   * start-up. A store without it starts keyed sessions afresh in each process.
   */
  getSessions?(): MaybePromise<Iterable<[string, SessionState]>>;
  /**
   * Synchronously records that `sessionId` may emit event indexes up to `upTo`, before they are emitted.
   * A store that survives a crash implements it and continues each session after its highest reservation,
   * so a killed process never makes the next one repeat an `eventIndex`. Optional.
   */
  reserveEventIndex?(sessionId: string, upTo: number, key?: string): void;
  /** Releases files, locks or connections. Called by `ClientSession.close()` after the last write. */
  close?(): MaybePromise<void>;
}
