export { createClientSession, type ClientSession } from './client-session.js';
export type { ClientSessionOptions, SessionClock, SessionInfo, SessionLogger, SessionTimeouts, TransitionInfo } from './session/options.js';
export { readBrowserIdentity, type BrowserCookieOptions, type BrowserIdentity } from './web/browser-identity.js';
export type { BrowserIdCookie } from './web/id-cookie.js';
export type { KeySource, Visitor } from './web/visitor.js';
export type { AdapterOptions, KeyOf, RequestOptions } from './web/request-sessions.js';
export type { ConnectMiddleware, FastifyLike, FastifyRequestLike, FastifySessionPlugin, KoaContextLike, KoaSessionMiddleware, NodeRequestLike, RequestWithHeaders } from './web/framework-adapters.js';
export type { AtomicIds } from './session/atomic-ids.js';
export { ANONYMOUS_USER_ID, type ClientSessionEntity } from './session/entity.js';
export type { SessionState, SessionEndReason } from './session/state.js';
export { MAX_INDEX } from './session/state.js';
export {
  STORAGE_MECHANISMS,
  SessionStoreBusyError,
  SessionStoreUnavailableError,
  type ExtendRequest,
  type LeaseRequest,
  type MaybePromise,
  type RecordTransaction,
  type SessionLease,
  type SessionStore,
  type SharedSessionRecord,
  type StorageMechanism,
  type StoreAccess,
  type SyncSessionStore,
} from './stores/session-store.js';
export { SqliteSessionStore, type LowdbImport, type SqliteSessionStoreOptions } from './stores/sqlite-session-store.js';
export { RedisSessionStore, type RedisScriptClient, type RedisSessionStoreOptions } from './stores/redis-session-store.js';
export { MemorySessionStore } from './stores/memory-session-store.js';
export { LowdbSessionStore, DEFAULT_STORE_FILE, type LowdbSessionStoreOptions } from './stores/lowdb-session-store.js';
export * from './schema-uris.js';
export { SessionStoreLockedError } from './stores/file-lock.js';
export { SessionStoreForeignFileError } from './stores/session-document.js';
