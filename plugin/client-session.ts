import {
  buildSelfDescribingEvent,
  LOG,
  type CorePlugin,
  type CorePluginConfiguration,
  type Payload,
  type PayloadBuilder,
  type TrackerCore,
} from '@snowplow/tracker-core';
import { v4 as uuidv4 } from 'uuid';
import { APPLICATION_BACKGROUND_SCHEMA, APPLICATION_FOREGROUND_SCHEMA, CLIENT_SESSION_SCHEMA } from './schema-uris.js';
import { clientSessionEntity, type ClientSessionEntity } from './session/entity.js';
import { sessionEndEvent, sessionStartEvent, type LifecycleEvent } from './session/lifecycle-events.js';
import { resolveOptions, type ClientSessionOptions, type SessionInfo, type SessionLogger } from './session/options.js';
import { SessionChecker } from './session/session-checker.js';
import { SessionWriter } from './session/session-writer.js';
import { countLeasedEvent, endSession, expiryReason, MAX_INDEX, nextSessionState, type SessionEndReason, type SessionState } from './session/state.js';
import { readStoredSession, type StoredSession } from './session/stored-session.js';
import { SessionStoreLockedError } from './stores/file-lock.js';
import { DEFAULT_STORE_FILE, LowdbSessionStore } from './stores/lowdb-session-store.js';
import type { SessionStore } from './stores/session-store.js';

/** A client session for one tracker: register it with `tracker.addPlugin(session)`. */
export interface ClientSession extends CorePluginConfiguration {
  /** The tracker-core plugin (also for `trackerCore({ corePlugins: [session.plugin] })`). */
  readonly plugin: CorePlugin;
  /** Switches between the foreground and background timeout (of the default session, or of `key`'s). */
  setBackground(isBackground: boolean, key?: string): void;
  isBackground(key?: string): boolean;
  /** The `client_session` data attached to the last event (of the default session, or of `key`'s), or `null`. */
  getSessionContext(key?: string): ClientSessionEntity | null;
  /** The next event (of the default session, or of `key`'s) opens a new session. */
  startNewSession(key?: string): void;
  /**
   * With a store shared by several processes (RedisSessionStore): reads `key`'s session atomically from the
   * store (rotating it if it timed out) and reserves `reserve` event indexes for this process. Call it
   * before tracking for that key (e.g. in request middleware). Never rejects: if the store is unreachable
   * the session goes on locally (with a warning). A no-op with single-process stores.
   */
  load(key?: string, reserve?: number): Promise<void>;
  /** Writes the sessions to the store now; rejects with the store's error if that fails. */
  flush(): Promise<void>;
  /** Stops the checker, flushes, then releases the store. */
  close(): Promise<void>;
}

/** One session's slot: the default session has key `undefined`, keyed sessions their key. */
interface Slot {
  key: string | undefined;
  session: SessionState | null;
  /** Used when the slot opens its first session. */
  userId: string;
  background: boolean;
  forceNewSession: boolean;
  lastEntity: ClientSessionEntity | null;
  /** Event indexes of `reservedFor` that the store has recorded as possibly emitted (see reserveEventIndex). */
  reservedFor: string | null;
  reservedUpTo: number;
  reservationBlock: number;
  /** Event indexes leased from a shared store for the current session: `next`..`to`. */
  lease: { next: number; to: number; warned: boolean } | null;
}

/** The event being tracked: decided in `beforeTrack`, committed in `afterTrack` if it was sent. */
interface PendingEvent {
  slot: Slot;
  eventId: string;
  state: SessionState;
  entity: ClientSessionEntity;
  /** An application_background / application_foreground event switches the state once counted. */
  backgroundAfter: boolean | undefined;
}

const MAX_DATE_MS = 8.64e15;
/** Event indexes leased per `load()` by default. */
const DEFAULT_LEASE = 8;
/** Event indexes reserved at once: doubling per session up to the maximum, so bursts cost few journal appends. */
const FIRST_RESERVATION = 64;
const MAX_RESERVATION = 8192;

export async function createClientSession(options: ClientSessionOptions = {}): Promise<ClientSession> {
  const config = resolveOptions(options);
  const { policy } = config;
  const logger: SessionLogger = options.logger ?? LOG;
  const store: SessionStore = options.store ?? new LowdbSessionStore({ file: DEFAULT_STORE_FILE });
  const slots = new Map<string | undefined, Slot>();
  slots.set(undefined, newSlot(undefined, await loadStoredSession(store, logger)));
  if (options.sessionKey !== undefined) {
    for (const [key, stored] of await loadKeyedSessions(store, logger)) slots.set(key, newSlot(key, stored));
  }

  let core: TrackerCore | undefined;
  let lifecycleDepth = 0; // > 0 while the plugin tracks its own session_start / session_end
  let pending: PendingEvent | null = null;
  let closed = false;
  let warnedNoTracker = false;
  let leaseFailing = false;

  const writer = new SessionWriter(
    store,
    (error) => {
      logger.error('snowplow-client-session: cannot write the session store; tracking goes on from memory and the write is retried', error);
      call('onError', options.onError, error);
    },
    () => logger.warn('snowplow-client-session: the session store is writable again'),
    config.writeInterval,
  );
  const checker = new SessionChecker(config.checkInterval, checkSessions);
  pruneAndExpire(clock(), false);
  if (hasLiveSession()) checker.start();

  function newSlot(key: string | undefined, stored: StoredSession): Slot {
    return {
      key,
      session: stored.state,
      userId: stored.userId ?? uuidv4(),
      background: false,
      forceNewSession: false,
      lastEntity: null,
      // The store continues a loaded session after its reservations: its eventIndex is already safe.
      reservedFor: stored.state?.sessionId ?? null,
      reservedUpTo: stored.state?.eventIndex ?? 0,
      reservationBlock: FIRST_RESERVATION,
      lease: null,
    };
  }

  /** Before an index is emitted, make sure the store has reserved it (synchronously: no crash can lose it). */
  function reserve(slot: Slot, session: SessionState): void {
    if (store.reserveEventIndex === undefined) return;
    if (slot.reservedFor !== session.sessionId) {
      slot.reservedFor = session.sessionId;
      slot.reservedUpTo = 0;
      slot.reservationBlock = FIRST_RESERVATION;
    }
    if (session.eventIndex <= slot.reservedUpTo) return;
    const upTo = Math.min(session.eventIndex + slot.reservationBlock - 1, MAX_INDEX);
    try {
      store.reserveEventIndex(session.sessionId, upTo, slot.key);
      slot.reservedUpTo = upTo;
      slot.reservationBlock = Math.min(slot.reservationBlock * 2, MAX_RESERVATION);
    } catch (error) {
      logger.error('snowplow-client-session: cannot reserve event indexes in the store; a crash now could repeat an eventIndex', error);
    }
  }

  function slotFor(key: string | undefined): Slot {
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = newSlot(key, readStoredSession(null));
      slots.set(key, slot);
    }
    return slot;
  }

  function clock(): number {
    const value = config.now();
    if (Number.isFinite(value) && Math.abs(value) <= MAX_DATE_MS) return value;
    logger.warn(`snowplow-client-session: now() returned ${String(value)}; using Date.now() instead`);
    return Date.now();
  }

  function keyOf(payload: Payload): string | undefined {
    if (options.sessionKey === undefined) return undefined;
    try {
      const key = options.sessionKey(payload);
      return typeof key === 'string' && key !== '' ? key : undefined;
    } catch (error) {
      logger.error('snowplow-client-session: sessionKey threw; the event goes to the default session', error);
      return undefined;
    }
  }

  function beforeTrack(pb: PayloadBuilder): void {
    if (lifecycleDepth > 0) return; // our own lifecycle event: it already carries its entity
    pending = null; // an event that a filter dropped never reached afterTrack: forget it
    try {
      const payload = pb.getPayload();
      const slot = slotFor(keyOf(payload));
      const now = clock();
      const eventId = typeof payload.eid === 'string' ? payload.eid : uuidv4();
      const event = {
        eventId,
        eventTimestamp: Number(payload.ttm ?? payload.dtm ?? now),
        now,
        background: slot.background,
        forceNewSession: slot.forceNewSession,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
      };
      let state: SessionState;
      let entity: ClientSessionEntity;
      if (slot.lease !== null && slot.session !== null) {
        // A session leased from a shared store: the store decided it; count the event with a leased index.
        const index = slot.lease.next <= slot.lease.to ? slot.lease.next++ : null;
        if (index === null && !slot.lease.warned) {
          slot.lease.warned = true;
          logger.warn('snowplow-client-session: more events than load() reserved for a key; the rest carry eventIndex null (pass a larger reserve)');
        }
        state = countLeasedEvent(slot.session, event, index);
        entity = { ...clientSessionEntity(state, store.storageMechanism), eventIndex: index };
      } else {
        const decision = nextSessionState(slot.session, event, policy, uuidv4, slot.userId);
        // Ending and opening are facts whatever happens to this event, and their events must precede it.
        if (decision.ended !== null) end(slot, decision.ended.session, decision.ended.reason);
        if (decision.opened !== null) open(slot, decision.opened);
        reserve(slot, decision.state);
        state = decision.state;
        entity = clientSessionEntity(state, store.storageMechanism);
      }
      // A fresh object per event, never changed afterwards (getSessionContext hands out copies).
      pb.addContextEntity({ schema: CLIENT_SESSION_SCHEMA, data: entity as unknown as Record<string, unknown> });
      if (config.atomicSessionFields) {
        pb.add('sid', state.sessionId);
        pb.add('vid', String(state.sessionIndex));
      }
      pending = { slot, eventId, state, entity, backgroundAfter: backgroundSwitch(pb) };
      checker.start();
    } catch (error) {
      logger.error('snowplow-client-session: cannot sessionize an event; it is sent without a client_session entity', error);
    }
  }

  function afterTrack(payload: Payload): void {
    if (lifecycleDepth > 0) return;
    const done = pending;
    pending = null;
    if (done === null || payload.eid !== done.eventId) return;
    const { slot } = done;
    commit(slot, done.state);
    slot.lastEntity = done.entity;
    if (done.backgroundAfter !== undefined) slot.background = done.backgroundAfter;
    if (options.onSessionUpdate !== undefined) call('onSessionUpdate', options.onSessionUpdate, info(slot.key, done.entity));
  }

  function commit(slot: Slot, session: SessionState): void {
    slot.session = session;
    if (!closed) writer.save(slot.key, session);
  }

  function end(slot: Slot, ended: SessionState, reason: SessionEndReason): void {
    commit(slot, ended);
    const entity = clientSessionEntity(ended, store.storageMechanism);
    call('onSessionEnd', options.onSessionEnd, info(slot.key, entity), reason);
    if (config.sessionEvents) trackLifecycle(sessionEndEvent(ended, reason), { ...entity, eventIndex: null });
  }

  function open(slot: Slot, opened: SessionState): void {
    commit(slot, opened);
    slot.forceNewSession = false;
    const entity = clientSessionEntity(opened, store.storageMechanism);
    call('onSessionStart', options.onSessionStart, info(slot.key, entity));
    if (config.sessionEvents) trackLifecycle(sessionStartEvent(opened), { ...entity, eventIndex: null });
  }

  /** Tracks a lifecycle event through the tracker the plugin is on; `beforeTrack` lets it pass as it is. */
  function trackLifecycle(lifecycle: LifecycleEvent, entity: ClientSessionEntity): void {
    if (core === undefined) {
      if (!warnedNoTracker) logger.warn('snowplow-client-session: sessionEvents is on but the plugin is not on a tracker yet; session events are skipped');
      warnedNoTracker = true;
      return;
    }
    lifecycleDepth++;
    try {
      core.track(buildSelfDescribingEvent({ event: lifecycle.event }), [{ schema: CLIENT_SESSION_SCHEMA, data: { ...entity } }], {
        type: 'ttm',
        value: lifecycle.timestamp,
      });
    } catch (error) {
      logger.error('snowplow-client-session: cannot track a session event', error);
    } finally {
      lifecycleDepth--;
    }
  }

  /** The checker's tick: end what has expired, prune keyed records past retention, stop when nothing is live. */
  function checkSessions(): void {
    try {
      pruneAndExpire(clock(), true);
      if (!hasLiveSession()) checker.stop();
    } catch (error) {
      logger.error('snowplow-client-session: the session check failed', error);
    }
  }

  function pruneAndExpire(now: number, expire: boolean): void {
    for (const slot of [...slots.values()]) {
      const session = slot.session;
      if (session === null) continue;
      if (slot.key !== undefined && now - session.lastActivityAt > config.retention) {
        slots.delete(slot.key);
        if (!closed) writer.remove(slot.key);
        continue;
      }
      if (!expire || session.ended || slot.lease !== null) continue; // a shared store decides leased sessions' ends
      const reason = expiryReason(session, now, slot.background, policy);
      if (reason !== null) end(slot, endSession(session), reason);
    }
  }

  function hasLiveSession(): boolean {
    for (const slot of slots.values()) if (slot.session !== null && !slot.session.ended) return true;
    return false;
  }

  function call<A extends unknown[]>(name: string, callback: ((...args: A) => void) | undefined, ...args: A): void {
    if (callback === undefined) return;
    try {
      callback(...args);
    } catch (error) {
      logger.error(`snowplow-client-session: the ${name} callback threw; tracking goes on`, error);
    }
  }

  const plugin: CorePlugin = {
    activateCorePlugin: (tracker) => void (core = tracker),
    deactivatePlugin: () => checker.stop(),
    beforeTrack,
    afterTrack,
  };

  return {
    plugin,
    setBackground(isBackground: boolean, key?: string): void {
      if (typeof isBackground !== 'boolean') {
        throw new TypeError(`snowplow-client-session: setBackground expects a boolean, got ${typeof isBackground}`);
      }
      slotFor(key).background = isBackground;
      if (!isBackground && hasLiveSession()) checker.start(); // seed 003: foregrounding resumes the checker
    },
    isBackground: (key?: string) => slots.get(key)?.background ?? false,
    getSessionContext(key?: string): ClientSessionEntity | null {
      const entity = slots.get(key)?.lastEntity ?? null;
      return entity === null ? null : { ...entity };
    },
    startNewSession(key?: string): void {
      slotFor(key).forceNewSession = true;
      slotFor(key).lease = null; // a leased session is replaced at the next load(), or locally by the next event
    },
    async load(key?: string, reserve = DEFAULT_LEASE): Promise<void> {
      if (store.lease === undefined) return;
      if (!Number.isInteger(reserve) || reserve < 1) throw new RangeError(`snowplow-client-session: load() reserve must be a whole number >= 1, got ${reserve}`);
      const slot = slotFor(key);
      let lease;
      try {
        lease = await store.lease(key, {
          now: clock(),
          policy,
          background: slot.background,
          forceNewSession: slot.forceNewSession,
          block: reserve,
          newSessionId: uuidv4(),
          newUserId: slot.userId,
          maxIndex: MAX_INDEX,
        });
      } catch (error) {
        if (!leaseFailing) logger.warn('snowplow-client-session: the shared session store is unreachable; sessions go on locally until it is back', error);
        leaseFailing = true;
        return;
      }
      if (leaseFailing) logger.warn('snowplow-client-session: the shared session store is reachable again');
      leaseFailing = false;
      const leased = readStoredSession(lease.session);
      if (leased.state === null || leased.problem !== null) {
        logger.warn(`snowplow-client-session: the shared store returned an unusable session for a key (${leased.problem ?? 'empty'}); going on locally`);
        return;
      }
      const known = slot.session?.sessionId === leased.state.sessionId ? slot.session : null;
      const session: SessionState = {
        ...leased.state,
        eventIndex: lease.from - 1, // this process's view: the last index it used
        // This process may know the first event before its paced write has told Redis.
        firstEventId: leased.state.firstEventId ?? known?.firstEventId ?? null,
        firstEventTimestamp: leased.state.firstEventTimestamp ?? known?.firstEventTimestamp ?? null,
      };
      if (lease.ended !== null) {
        const ended = readStoredSession(lease.ended.session).state;
        if (ended !== null) end(slot, endSession(ended), lease.ended.reason);
      }
      if (lease.opened) open(slot, session);
      else commit(slot, session);
      slot.userId = session.userId;
      slot.forceNewSession = false;
      slot.lease = { next: lease.from, to: lease.to, warned: false };
    },
    flush: () => writer.flush(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      checker.stop();
      writer.stop();
      await writer.flush();
      await store.close?.();
    },
  };
}

/** An application_background / application_foreground event: read from the unencoded JSON, no decoding. */
function backgroundSwitch(pb: PayloadBuilder): boolean | undefined {
  for (const { keyIfEncoded, json } of pb.getJson()) {
    if (keyIfEncoded !== 'ue_px') continue;
    const schema = (json.data as { schema?: unknown } | undefined)?.schema;
    if (schema === APPLICATION_BACKGROUND_SCHEMA) return true;
    if (schema === APPLICATION_FOREGROUND_SCHEMA) return false;
  }
  return undefined;
}

function info(key: string | undefined, entity: ClientSessionEntity): SessionInfo {
  return key === undefined ? { ...entity } : { ...entity, key };
}

async function loadStoredSession(store: SessionStore, logger: SessionLogger): Promise<StoredSession> {
  let raw: unknown;
  try {
    raw = await store.getSession();
  } catch (error) {
    if (error instanceof SessionStoreLockedError) throw error; // another process has the file: the app must decide
    logger.error('snowplow-client-session: cannot read the session store; starting a new session', error);
    return readStoredSession(null);
  }
  const stored = readStoredSession(raw);
  if (stored.problem !== null) {
    const kept = stored.userId === null ? '' : ` (keeping userId ${stored.userId})`;
    logger.warn(`snowplow-client-session: ignoring the stored session: ${stored.problem}; a new session replaces it${kept}`);
  }
  return stored;
}

/** Every keyed session the store can list; unusable records are skipped with one warning. */
async function loadKeyedSessions(store: SessionStore, logger: SessionLogger): Promise<Array<[string, StoredSession]>> {
  if (store.getSessions === undefined) {
    logger.warn('snowplow-client-session: the store cannot list sessions (no getSessions); keyed sessions start afresh in this process');
    return [];
  }
  let entries: Iterable<[string, SessionState]>;
  try {
    entries = await store.getSessions();
  } catch (error) {
    logger.error('snowplow-client-session: cannot read the keyed sessions; they start afresh', error);
    return [];
  }
  const loaded: Array<[string, StoredSession]> = [];
  let skipped = 0;
  for (const [key, raw] of entries) {
    const stored = readStoredSession(raw);
    if (stored.problem !== null) skipped++;
    if (stored.userId !== null) loaded.push([key, stored]);
  }
  if (skipped > 0) logger.warn(`snowplow-client-session: ignored ${skipped} unusable keyed session record(s); new sessions replace them`);
  return loaded;
}
