import type { SessionEndReason, SessionPolicy, SessionState } from '../session/state.js';

/** The `storageMechanism` values the `client_session` schema allows. */
export const STORAGE_MECHANISMS = ['SQLITE', 'COOKIE_1', 'COOKIE_3', 'LOCAL_STORAGE', 'FLASH_LSO'] as const;
export type StorageMechanism = (typeof STORAGE_MECHANISMS)[number];

export type MaybePromise<T> = T | Promise<T>;

/**
 * How the plugin uses a store; each store says which (`SessionStore.access`):
 * - `startup`: the store belongs to this process. Its sessions are read once by `createClientSession`
 *   (`getSession`, `getSessions`), kept in memory, and written behind (`setSession`, `deleteSession`).
 *   Memory and lowdb stores.
 * - `lease`: shared by processes and machines, asynchronous. `load(key)` leases a key's session from the
 *   store (`lease`, `extendLease`) and events are counted from the lease. Redis.
 * - `sync`: shared by the processes of one host, synchronous. Nothing is read at start-up: each key's record
 *   is read when an event needs it, and every decision that other processes must see is a transaction
 *   (`SyncSessionStore`). SQLite.
 */
export type StoreAccess = 'startup' | 'lease' | 'sync';

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
  /** Which path the plugin takes with this store (see `StoreAccess`). Absent: `lease` if the store has `lease`, else `startup`. */
  readonly access?: StoreAccess;

  // Every store: the C++ tracker's get/set/delete on the session's JSON form.
  getSession(key?: string): MaybePromise<SessionState | null | undefined>;
  setSession(session: SessionState, key?: string): MaybePromise<void>;
  deleteSession(key?: string): MaybePromise<void>;

  // Access `startup`.
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
   * Keeps a copy of what the store holds now, before the plugin replaces unusable records it found there;
   * resolves with where the copy is (or null). Optional.
   */
  keepCopy?(): Promise<string | null>;

  // Access `lease`.
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

  // Access `sync`: the methods of `SyncSessionStore`.

  /** Releases files, locks or connections. Called by `ClientSession.close()` after the last write. */
  close?(): MaybePromise<void>;
}

/** One key's record in a `sync` store: what every process sharing the store decides from. */
export interface SharedSessionRecord {
  /** The key's identity, kept across its sessions. */
  userId: string;
  /**
   * The key's current (or last) session; `null` before the first one, and after `reset()`. Its `eventIndex`
   * is the highest index handed out to any process, so none is handed out twice.
   */
  session: SessionState | null;
  /** Anonymous tracking for the key, the same in every process. */
  anonymous: boolean;
  /** A process asked for a new session (`startNewSession`, `setAnonymous`): the next event, in any process, opens one for this reason. */
  pending: SessionEndReason | null;
}

/** Reads and writes inside one write transaction of a `sync` store. */
export interface RecordTransaction {
  read(key: string | undefined): SharedSessionRecord | null;
  /** `null` deletes the record. */
  write(key: string | undefined, record: SharedSessionRecord | null): void;
}

/** A `sync` store that could not get the write lock in time (another process holds it). Nothing was written. */
export class SessionStoreBusyError extends Error {
  override readonly name = 'SessionStoreBusyError';
}

/** A `sync` store that cannot be opened now (a read-only folder, a full disk): the plugin goes on from memory and tries again. */
export class SessionStoreUnavailableError extends Error {
  override readonly name = 'SessionStoreUnavailableError';
}

/**
 * A store shared by the processes of one host with synchronous access (`access: 'sync'`): `beforeTrack`
 * reads and decides in a transaction, so every process sees one session per key. Every method is
 * synchronous and may throw: `SessionStoreBusyError` (the lock was not had in time), anything else for
 * a failed read or write; the plugin then tracks from memory and tries again later.
 */
export interface SyncSessionStore extends SessionStore {
  readonly access: 'sync';
  /** The most event indexes the plugin reserves for one key at once (1: a transaction per event). */
  readonly indexBlock: number;
  /** How many keys' records the plugin keeps in memory (the least recently used go first; the default session stays). */
  readonly cacheSize: number;
  /**
   * Opens the store; called by `createClientSession`. Throws a `SessionStoreUnavailableError` when it
   * cannot now (every other method opens it again), anything else for a file it must not use.
   */
  open(): void;
  /** A number that changes whenever another connection (another process, or another store on the file) has written since the last call. */
  changeCount(): number;
  readRecord(key: string | undefined): SharedSessionRecord | null;
  /** Runs `body` in one write transaction: all of its writes, or none. `wait`: wait for another writer up to the store's bound, else fail at once. */
  transact<T>(body: (tx: RecordTransaction) => T, wait: boolean): T;
  /**
   * Keys whose session may be idle, at most `limit`: every live (not ended) session last active before
   * `before` is listed, at a time at or after `from` (ms) and never later than its last activity, the earliest
   * first, with that time. A key listed may have been active since: the caller checks its record.
   */
  idleKeys(before: number, limit: number, from: number): Array<{ key: string | undefined; lastActivityAt: number }>;
  /** Deletes up to `limit` keyed records (never the default session's) last active before `before`; returns how many. */
  pruneIdle(before: number, limit: number): number;
}

/** The path the plugin takes with `store`. */
export function storeAccess(store: SessionStore): StoreAccess {
  return store.access ?? (store.lease === undefined ? 'startup' : 'lease');
}

export function isSyncStore(store: SessionStore): store is SyncSessionStore {
  return storeAccess(store) === 'sync';
}
