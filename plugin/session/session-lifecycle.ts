import { buildSelfDescribingEvent, type TrackerCore } from '@snowplow/tracker-core';
import { CLIENT_SESSION_SCHEMA } from '../schema-uris.js';
import type { StorageMechanism } from '../stores/session-store.js';
import { clientSessionEntity, type ClientSessionEntity } from './entity.js';
import { sessionEndEvent, sessionStartEvent, type LifecycleEvent } from './lifecycle-events.js';
import type { ClientSessionOptions, SessionInfo, SessionLogger } from './options.js';
import type { Slot } from './slots.js';
import type { SessionEndReason, SessionState } from './state.js';

type Callbacks = Pick<ClientSessionOptions, 'onSessionStart' | 'onSessionEnd' | 'onSessionUpdate' | 'onForeground' | 'onBackground'>;

/**
 * What happens when a session ends, opens or counts an event: the state is committed, the callbacks run
 * and, with `sessionEvents`, `session_end`/`session_start` are tracked through the tracker the plugin is on.
 */
export class SessionLifecycle {
  #core: TrackerCore | undefined;
  /** > 0 while the plugin tracks its own lifecycle event: `beforeTrack` lets it pass as it is. */
  #depth = 0;
  #warnedNoTracker = false;

  constructor(
    private readonly callbacks: Callbacks,
    private readonly sessionEvents: boolean,
    private readonly storageMechanism: StorageMechanism,
    private readonly logger: SessionLogger,
    private readonly commit: (slot: Slot, session: SessionState) => void,
  ) {}

  attach(core: TrackerCore): void {
    this.#core = core;
  }

  /** True inside the plugin's own `track()` of a lifecycle event. */
  get tracking(): boolean {
    return this.#depth > 0;
  }

  ended(slot: Slot, ended: SessionState, reason: SessionEndReason): void {
    this.commit(slot, ended);
    const entity = clientSessionEntity(ended, this.storageMechanism, slot.anonymous);
    safeCall(this.logger, 'onSessionEnd', this.callbacks.onSessionEnd, info(slot.key, entity), reason);
    if (this.sessionEvents) this.#track(sessionEndEvent(ended, reason, slot.anonymous), entity);
  }

  opened(slot: Slot, opened: SessionState): void {
    this.commit(slot, opened);
    slot.forceNewSession = null;
    slot.fresh = false;
    slot.foregroundIndex = 0; // the mobile trackers count transitions per session
    slot.backgroundIndex = 0;
    const entity = clientSessionEntity(opened, this.storageMechanism, slot.anonymous);
    safeCall(this.logger, 'onSessionStart', this.callbacks.onSessionStart, info(slot.key, entity));
    if (this.sessionEvents) this.#track(sessionStartEvent(opened, slot.anonymous), entity);
  }

  /** A switch to the foreground or background, counted in the session and reported to `onForeground`/`onBackground`. */
  switched(slot: Slot, background: boolean): void {
    if (background) slot.backgroundIndex++;
    else slot.foregroundIndex++;
    const callback = background ? this.callbacks.onBackground : this.callbacks.onForeground;
    if (callback === undefined || slot.session === null) return;
    const entity = clientSessionEntity(slot.session, this.storageMechanism, slot.anonymous);
    const transition = { ...info(slot.key, entity), foregroundIndex: slot.foregroundIndex, backgroundIndex: slot.backgroundIndex };
    safeCall(this.logger, background ? 'onBackground' : 'onForeground', callback, transition);
  }

  counted(slot: Slot, entity: ClientSessionEntity): void {
    if (this.callbacks.onSessionUpdate !== undefined) safeCall(this.logger, 'onSessionUpdate', this.callbacks.onSessionUpdate, info(slot.key, entity));
  }

  /** Lifecycle events carry the entity with `eventIndex: null`: they are about the session, not in it. */
  #track(lifecycle: LifecycleEvent, entity: ClientSessionEntity): void {
    if (this.#core === undefined) {
      if (!this.#warnedNoTracker) this.logger.warn('snowplow-client-session: sessionEvents is on but the plugin is not on a tracker yet; session events are skipped');
      this.#warnedNoTracker = true;
      return;
    }
    this.#depth++;
    try {
      const context = [{ schema: CLIENT_SESSION_SCHEMA, data: { ...entity, eventIndex: null } }];
      this.#core.track(buildSelfDescribingEvent({ event: lifecycle.event }), context, { type: 'ttm', value: lifecycle.timestamp });
    } catch (error) {
      this.logger.error('snowplow-client-session: cannot track a session event', error);
    } finally {
      this.#depth--;
    }
  }
}

/** Calls an app's callback; one that throws is logged and tracking goes on. */
export function safeCall<A extends unknown[]>(logger: SessionLogger, name: string, callback: ((...args: A) => void) | undefined, ...args: A): void {
  if (callback === undefined) return;
  try {
    callback(...args);
  } catch (error) {
    logger.error(`snowplow-client-session: the ${name} callback threw; tracking goes on`, error);
  }
}

function info(key: string | undefined, entity: ClientSessionEntity): SessionInfo {
  return key === undefined ? { ...entity } : { ...entity, key };
}
