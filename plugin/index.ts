export { createClientSession, type ClientSession } from './client-session.js';
export type { ClientSessionOptions, SessionInfo, SessionLogger } from './session/options.js';
export type { ClientSessionEntity } from './session/entity.js';
export type { SessionState, SessionEndReason } from './session/state.js';
export { MAX_INDEX } from './session/state.js';
export { STORAGE_MECHANISMS, type SessionStore, type StorageMechanism, type MaybePromise } from './stores/session-store.js';
export { MemorySessionStore } from './stores/memory-session-store.js';
export { LowdbSessionStore, DEFAULT_STORE_FILE, type LowdbSessionStoreOptions } from './stores/lowdb-session-store.js';
export * from './schema-uris.js';
