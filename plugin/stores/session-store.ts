import type { SessionEndReason, SessionPolicy, SessionState } from '../session/state.js';

/** The `storageMechanism` values the `client_session` schema allows. */
export const STORAGE_MECHANISMS = ['SQLITE', 'COOKIE_1', 'COOKIE_3', 'LOCAL_STORAGE', 'FLASH_LSO'] as const;
export type StorageMechanism = (typeof STORAGE_MECHANISMS)[number];

export type MaybePromise<T> = T | Promise<T>;

/** A shared store's answer to `lease()`: the session now, and event indexes reserved for this process. */
export interface SessionLease {
  /** The session as the shared store holds it (its `eventIndex` is the highest index handed out so far). */
  session: SessionState;
  /** This process may use event indexes `from`..`to` of `session` (none when `to < from`). */
  from: number;
  to: number;
  /** This lease opened the session (the caller reports the start, exactly once across processes). */
  opened: boolean;
  /** The session this lease ended and why (reported by this caller only). */
  ended: { session: SessionState; reason: SessionEndReason } | null;
  /** The store's time of the decision (ms since epoch): the request's `now`, or the store's own clock. */
  now: number;
  /** The key's anonymous tracking, shared by every process (absent: the store does not keep it). */
  anonymous?: boolean;
}

export interface LeaseRequest {
  /** The time of the decision, or `null` to use the store's own clock (one clock for every process). */
  now: number | null;
  policy: SessionPolicy;
  background: boolean;
  forceNewSession: boolean;
  /** Why a new session is forced (reported as the end reason); default `manual`. */
  forceReason?: SessionEndReason;
  /** Open session 1 of `newUserId`, with no previous session, whatever the store holds (`reset()`). */
  fresh?: boolean;
  /** This process started at this time (the store's time): a session idle since before it ends (`restart`). Absent: sessions continue across restarts. */
  restartedAt?: number | null;
  /** This process's anonymous tracking for the key: kept by the store when it creates the record, resets it, or the switch is the reason (`forceReason: 'anonymous'`). */
  anonymous?: boolean;
  /** How many event indexes to reserve. */
  block: number;
  /** Used if the lease opens a session / the record is new. */
  newSessionId: string;
  /** Used if the store has no record of the key. */
  newUserId: string;
  maxIndex: number;
  /**
   * This process's last session of the key, if it knows one: when the store has lost the record (evicted,
   * deleted, expired), the new session links to it (`previousSessionId`, next `sessionIndex`).
   */
  known: { sessionId: string; sessionIndex: number } | null;
}

/** More event indexes for a session this process holds a lease on; the store never rotates here. */
export interface ExtendRequest {
  sessionId: string;
  block: number;
  maxIndex: number;
  /** As in `LeaseRequest`. */
  now: number | null;
}

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
  /**
   * For stores shared by several processes: decides the session of `key` atomically (rotation included)
   * and reserves event indexes for this process. `ClientSession.load(key)` calls it. Optional.
   *
   * A store with `lease` is shared: the plugin never deletes its records (the store expires them) and
   * `setSession` must only merge into an existing record of the same session, never create one.
   */
  lease?(key: string | undefined, request: LeaseRequest): Promise<SessionLease>;
  /**
   * With `lease`: reserves `block` more indexes of `sessionId` if it is still the key's session, else
   * answers `null` (the next `lease()` decides what comes next). Never creates or rotates a record.
   */
  extendLease?(key: string | undefined, request: ExtendRequest): Promise<{ from: number; to: number } | null>;
  /**
   * Keeps a copy of what the store holds now, before the plugin replaces unusable records it found there;
   * resolves with where the copy is (or null). Optional.
   */
  keepCopy?(): Promise<string | null>;
  /** Releases files, locks or connections. Called by `ClientSession.close()` after the last write. */
  close?(): MaybePromise<void>;
}
