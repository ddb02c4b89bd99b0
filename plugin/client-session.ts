import { LOG, type CorePlugin, type CorePluginConfiguration, type PayloadBuilder, type Payload } from '@snowplow/tracker-core';
import { v4 as uuidv4 } from 'uuid';
import { CLIENT_SESSION_SCHEMA } from './schema-uris.js';
import { clientSessionEntity, type ClientSessionEntity } from './session/entity.js';
import { resolveOptions, type ClientSessionOptions, type SessionLogger } from './session/options.js';
import { SessionWriter } from './session/session-writer.js';
import { nextSessionState, type SessionDecision } from './session/state.js';
import { readStoredSession } from './session/stored-session.js';
import { DEFAULT_STORE_FILE, LowdbSessionStore } from './stores/lowdb-session-store.js';
import type { SessionStore } from './stores/session-store.js';

/** A client session for one tracker: register it with `tracker.addPlugin(session)`. */
export interface ClientSession extends CorePluginConfiguration {
  /** The tracker-core plugin (also for `trackerCore({ corePlugins: [session.plugin] })`). */
  readonly plugin: CorePlugin;
  /** Switches between the foreground and background timeout. */
  setBackground(isBackground: boolean): void;
  isBackground(): boolean;
  /** The `client_session` data attached to the last event, or `null` before any. */
  getSessionContext(): ClientSessionEntity | null;
  /** The next event opens a new session. */
  startNewSession(): void;
  /** Writes the session to the store now; rejects with the store's error if that fails. */
  flush(): Promise<void>;
  /** Flushes, then releases the store. */
  close(): Promise<void>;
}

/** The event being tracked: decided in `beforeTrack`, committed in `afterTrack` if the event was sent. */
interface PendingEvent {
  eventId: string;
  decision: SessionDecision;
  entity: ClientSessionEntity;
}

export async function createClientSession(options: ClientSessionOptions = {}): Promise<ClientSession> {
  const { policy, now } = resolveOptions(options);
  const logger: SessionLogger = options.logger ?? LOG;
  const store: SessionStore = options.store ?? new LowdbSessionStore({ file: DEFAULT_STORE_FILE });

  const stored = await loadStoredSession(store, logger);
  let session = stored.state;
  const userId = stored.userId ?? uuidv4();
  let background = false;
  let forceNewSession = false;
  let lastEntity: ClientSessionEntity | null = null;
  let pending: PendingEvent | null = null;
  let closed = false;

  const writer = new SessionWriter(
    store,
    (error) => logger.error('snowplow-client-session: cannot write the session store; tracking goes on from memory and the write is retried', error),
    () => logger.warn('snowplow-client-session: the session store is writable again'),
  );

  function clock(): number {
    const value = now();
    if (Number.isFinite(value)) return value;
    logger.warn(`snowplow-client-session: now() returned ${String(value)}; using Date.now() for this event`);
    return Date.now();
  }

  function beforeTrack(pb: PayloadBuilder): void {
    pending = null; // an event that a filter dropped never reached afterTrack: forget it
    try {
      const payload = pb.getPayload();
      const time = clock();
      const eventId = typeof payload.eid === 'string' ? payload.eid : uuidv4();
      const decision = nextSessionState(
        session,
        {
          eventId,
          eventTimestamp: Number(payload.ttm ?? payload.dtm ?? time),
          now: time,
          background,
          forceNewSession,
          uid: typeof payload.uid === 'string' ? payload.uid : null,
        },
        policy,
        uuidv4,
        userId,
      );
      const entity = clientSessionEntity(decision.state, store.storageMechanism);
      pb.addContextEntity({ schema: CLIENT_SESSION_SCHEMA, data: { ...entity } });
      pending = { eventId, decision, entity };
    } catch (error) {
      logger.error('snowplow-client-session: cannot sessionize an event; it is sent without a client_session entity', error);
    }
  }

  function afterTrack(payload: Payload): void {
    const done = pending;
    pending = null;
    if (done === null || payload.eid !== done.eventId) return;
    session = done.decision.state;
    lastEntity = done.entity;
    if (done.decision.started) forceNewSession = false;
    if (!closed) writer.save(undefined, session);
  }

  return {
    plugin: { beforeTrack, afterTrack },
    setBackground(isBackground: boolean): void {
      if (typeof isBackground !== 'boolean') {
        throw new TypeError(`snowplow-client-session: setBackground expects a boolean, got ${typeof isBackground}`);
      }
      background = isBackground;
    },
    isBackground: () => background,
    getSessionContext: () => (lastEntity === null ? null : { ...lastEntity }),
    startNewSession(): void {
      forceNewSession = true;
    },
    flush: () => writer.flush(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      writer.stop();
      await writer.flush();
      await store.close?.();
    },
  };
}

async function loadStoredSession(store: SessionStore, logger: SessionLogger) {
  let raw: unknown;
  try {
    raw = await store.getSession();
  } catch (error) {
    logger.error('snowplow-client-session: cannot read the session store; starting a new session', error);
    return readStoredSession(null);
  }
  const stored = readStoredSession(raw);
  if (stored.problem !== null) {
    const kept = stored.userId === null ? '' : ` (keeping userId ${stored.userId})`;
    logger.warn(`snowplow-client-session: ignoring the stored session: ${stored.problem}; starting a new session${kept}`);
  }
  return stored;
}
