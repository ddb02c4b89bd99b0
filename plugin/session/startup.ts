import { SessionStoreLockedError } from '../stores/file-lock.js';
import { SessionStoreForeignFileError } from '../stores/session-document.js';
import { isSyncStore, SessionStoreUnavailableError, type SessionStore } from '../stores/session-store.js';
import { describeError } from '../util/describe-error.js';
import { withTimeout } from '../util/with-timeout.js';
import type { ResolvedOptions, SessionLogger } from './options.js';
import type { SessionState } from './state.js';
import { readStoredSession, type StoredSession } from './stored-session.js';

/**
 * The sessions a process starts from. A store owned by this process is read once (the default session
 * and every keyed one: `track()` is synchronous). A shared store is not read: `load(key)` leases each
 * key's session when a request needs it, so a store that is down cannot hold up start-up; with
 * `requireStore`, one bounded read proves it answers.
 */
export async function readStartupSessions(
  store: SessionStore,
  config: ResolvedOptions,
  logger: SessionLogger,
  keyed: boolean,
): Promise<Array<[string | undefined, StoredSession]>> {
  if (isSyncStore(store)) {
    openSyncStore(store, config.requireStore);
    return [];
  }
  if (store.lease !== undefined) {
    if (config.requireStore) await probeSharedStore(store, config.loadTimeout);
    return [];
  }
  return [[undefined, await readDefaultSession(store, logger)], ...(await readKeyedSessions(store, logger, keyed))];
}

/**
 * A synchronous store is opened, not read (each key is read when an event needs it). A file it must not use
 * is an error here; one it cannot open now (a read-only folder, a full disk) is tried again by the first
 * events, which go on from memory meanwhile, unless `requireStore`.
 */
function openSyncStore(store: SessionStore & { open(): void }, requireStore: boolean): void {
  try {
    store.open();
  } catch (error) {
    if (!(error instanceof SessionStoreUnavailableError) || requireStore) throw error;
  }
}

async function probeSharedStore(store: SessionStore, timeout: number): Promise<void> {
  try {
    await withTimeout(Promise.resolve(store.getSession()), timeout, `no answer within ${timeout} ms`);
  } catch (error) {
    await Promise.resolve(store.close?.()).catch(() => undefined);
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`snowplow-client-session: the shared session store did not answer at start-up (option requireStore is on; loadTimeout ${timeout} ms): ${cause}`, { cause: error });
  }
}

async function readDefaultSession(store: SessionStore, logger: SessionLogger): Promise<StoredSession> {
  let raw: unknown;
  try {
    raw = await store.getSession();
  } catch (error) {
    // Another process has the file, or the file is not a session file: the app must decide.
    if (error instanceof SessionStoreLockedError || error instanceof SessionStoreForeignFileError) throw error;
    logger.error(`snowplow-client-session: cannot read the session store; starting a new session: ${describeError(error)}`);
    return readStoredSession(null);
  }
  const stored = readStoredSession(raw);
  if (stored.problem !== null) {
    const kept = stored.userId === null ? '' : ` (keeping userId ${stored.userId})`;
    logger.warn(`snowplow-client-session: ignoring the stored session: ${stored.problem}; a new session replaces it${kept}${await copyNote(store)}`);
  }
  return stored;
}

/** Every keyed session the store can list; unusable records are skipped with one warning. */
async function readKeyedSessions(store: SessionStore, logger: SessionLogger, keyed: boolean): Promise<Array<[string, StoredSession]>> {
  if (store.getSessions === undefined) {
    if (keyed) logger.warn('snowplow-client-session: the store cannot list sessions (no getSessions); keyed sessions start afresh in this process');
    return [];
  }
  let entries: Iterable<[string, SessionState]>;
  try {
    entries = await store.getSessions();
  } catch (error) {
    logger.error(`snowplow-client-session: cannot read the keyed sessions; they start afresh: ${describeError(error)}`);
    return [];
  }
  const loaded: Array<[string, StoredSession]> = [];
  let skipped = 0;
  for (const [key, raw] of entries) {
    const stored = readStoredSession(raw);
    if (stored.problem !== null) skipped++;
    if (stored.userId !== null) loaded.push([key, stored]);
  }
  if (skipped > 0) logger.warn(`snowplow-client-session: ignored ${skipped} unusable keyed session record(s); new sessions replace them${await copyNote(store)}`);
  return loaded;
}

/** Where the store kept a copy of what it held before unusable records are replaced. */
async function copyNote(store: SessionStore): Promise<string> {
  const copy = await Promise.resolve(store.keepCopy?.()).catch(() => null);
  return copy === null || copy === undefined ? '' : `; a copy of the store as it was is at ${copy}`;
}
