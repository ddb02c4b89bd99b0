import type { Payload, PayloadBuilder } from '@snowplow/tracker-core';
import { v4 as uuidv4 } from 'uuid';
import { APPLICATION_BACKGROUND_SCHEMA, APPLICATION_FOREGROUND_SCHEMA, CLIENT_SESSION_SCHEMA } from '../schema-uris.js';
import type { StorageMechanism } from '../stores/session-store.js';
import { TrackerGlobalIdsCheck, writeAtomicIds, type WrittenIds } from './atomic-ids.js';
import { clientSessionEntity, type ClientSessionEntity } from './entity.js';
import { eventTimeOf, LateEventWarning, newestActivity } from './event-time.js';
import type { IndexReservations } from './index-reservations.js';
import type { ClientSessionOptions, SessionLogger } from './options.js';
import type { RequestScope, Scope } from './request-scope.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import type { SharedLeases } from './shared-leases.js';
import type { Slot, SessionSlots } from './slots.js';
import type { SyncSessions } from './sync-sessions.js';
import { countLeasedEvent, endSession, expiryReason, nextSessionState, type SessionEvent, type SessionPolicy, type SessionState } from './state.js';

export interface SessionizerParts {
  slots: SessionSlots;
  reservations: IndexReservations;
  /** Present with a shared store (one that has `lease`). */
  leases: SharedLeases | null;
  /** Present with a synchronous shared store (`access: 'sync'`): it decides every event. */
  sync: SyncSessions | null;
  lifecycle: SessionLifecycle;
  scope: RequestScope;
  policy: SessionPolicy;
  atomicSessionFields: boolean;
  /** Idle keyed slots are forgotten after this many ms. */
  retention: number;
  storageMechanism: StorageMechanism;
  logger: SessionLogger;
  clock: () => number;
  sessionKey: ClientSessionOptions['sessionKey'];
  /** Records a slot's new state and has it written as `write` says (default `paced`). */
  commit(slot: Slot, state: SessionState, write?: WriteMode): void;
  /** Deletes a keyed record from a store this process owns. */
  remove(key: string): void;
  /** An event was sessionized: the checker should run. */
  onActivity(): void;
}

/**
 * How a counted state reaches the store: `now` (other processes need it soon: a leased session's first
 * event), `paced` (the next paced write), `none` (the store knows all that matters already).
 */
export type WriteMode = 'now' | 'paced' | 'none';

/** An event's session as decided in `beforeTrack`. */
interface Counted {
  state: SessionState;
  entity: ClientSessionEntity;
  write: WriteMode;
}

/**
 * A leased session's activity the store does not know of is merged only past this: the lease already
 * recorded the request's start, and a merge per request would double the store's work for a few ms.
 */
const LEASED_ACTIVITY_SLACK_MS = 1000;

/** The event being tracked: decided in `beforeTrack`, committed in `afterTrack` if it was sent. */
interface PendingEvent extends Counted {
  slot: Slot;
  eventId: string;
  /** An application_background / application_foreground event switches the state once counted. */
  backgroundAfter: boolean | undefined;
  /** The atomic ids the plugin set (joined browser ids, `atomicSessionFields`), or null. */
  written: WrittenIds | null;
}

/**
 * The plugin's per-event work: which key an event belongs to (request scope, then `sessionKey`), its
 * session (from a lease, or from the state machine), the entity, and, once the event was sent, the commit.
 * Also the sweep that ends idle sessions and forgets idle keys.
 */
export class EventSessionizer {
  #pending: PendingEvent | null = null;
  readonly #trackerIds: TrackerGlobalIdsCheck;
  readonly #late: LateEventWarning;

  constructor(private readonly parts: SessionizerParts) {
    this.#trackerIds = new TrackerGlobalIdsCheck(parts.logger);
    this.#late = new LateEventWarning(parts.logger);
  }

  beforeTrack(pb: PayloadBuilder): void {
    const { lifecycle, slots, clock, policy, onActivity } = this.parts;
    if (lifecycle.tracking) return; // our own lifecycle event: it already carries its entity
    this.#pending = null; // an event that a filter dropped never reached afterTrack: forget it
    try {
      const payload = pb.getPayload();
      const scope = this.parts.scope.current();
      const slot = slots.ensure(this.#keyOf(payload, scope));
      const clockNow = clock();
      const now = policy.eventTime === true ? eventTimeOf(payload, clockNow) : clockNow;
      const eventId = typeof payload.eid === 'string' ? payload.eid : uuidv4();
      const event: SessionEvent = {
        eventId,
        eventTimestamp: Number(payload.ttm ?? payload.dtm ?? now),
        now,
        background: slot.background,
        forceNewSession: slot.forceNewSession,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
      };
      const counted = this.parts.sync?.count(slot, event) ?? this.#leased(slot, event) ?? this.#local(slot, event);
      // A fresh object per event, never changed afterwards (getSessionContext hands out copies).
      pb.addContextEntity({ schema: CLIENT_SESSION_SCHEMA, data: counted.entity as unknown as Record<string, unknown> });
      const written = this.#writeAtomicFields(pb, counted.state, scope, slot.anonymous);
      // A literal of fixed shape, not a spread: this runs on every event.
      this.#pending = { state: counted.state, entity: counted.entity, write: counted.write, slot, eventId, backgroundAfter: backgroundSwitch(pb), written };
      onActivity();
    } catch (error) {
      this.parts.logger.error('snowplow-client-session: cannot sessionize an event; it is sent without a client_session entity', error);
    }
  }

  afterTrack(payload: Payload): void {
    if (this.parts.lifecycle.tracking) return;
    const done = this.#pending;
    this.#pending = null;
    if (done === null || payload.eid !== done.eventId) return;
    const { slot } = done;
    if (done.written !== null) this.#trackerIds.check(payload, done.written);
    this.parts.commit(slot, done.state, done.write);
    slot.lastEntity = done.entity;
    if (done.backgroundAfter !== undefined) this.switchBackground(slot, done.backgroundAfter, this.parts.clock());
    this.parts.lifecycle.counted(slot, done.entity);
  }

  /**
   * Switches a slot between foreground and background. The timeout of the state being left applies first
   * (the C++ tracker's rule): a session that timed out in the background has ended, however late that is
   * noticed. With a shared store the store applies it at the next `load()`.
   */
  switchBackground(slot: Slot, background: boolean, now: number): void {
    if (slot.background === background) return;
    const { leases, sync, policy, lifecycle } = this.parts;
    const session = slot.session;
    // By event time the clock says nothing about this key: its next event's time decides.
    if (policy.eventTime === true && session !== null) now = session.lastActivityAt;
    if (sync !== null) sync.expire(slot, now);
    else if (session !== null && !session.ended && !(leases?.has(slot.key) ?? false)) {
      const reason = expiryReason(session, now, slot.background, policy);
      if (reason !== null) lifecycle.ended(slot, endSession(session), reason);
    }
    slot.background = background;
    lifecycle.switched(slot, background);
  }

  /** Forgets keyed slots idle past retention; with `expire`, ends sessions that have timed out. */
  sweep(now: number, expire: boolean): void {
    const { slots, leases, policy, retention, reservations, lifecycle } = this.parts;
    if (policy.eventTime === true) {
      // The newest event time is "now" for retention; no session is ended by time (see event-time.ts).
      now = newestActivity(slots.all().map((slot) => slot.session), now);
      expire = false;
    }
    // With a shared store the store keeps every key: this process only forgets its copy once the session is over.
    const forgetAfter = leases === null ? retention : Math.min(retention, Math.max(policy.foregroundTimeout, policy.backgroundTimeout));
    for (const slot of slots.all()) {
      const session = slot.session;
      if (session === null) {
        // With a shared store a keyed slot that never counted an event (a load() only) holds nothing the store lacks.
        if (leases !== null && slot.key !== undefined && !leases.has(slot.key)) slots.delete(slot.key);
        continue;
      }
      if (slot.key !== undefined && now - session.lastActivityAt > forgetAfter) {
        slots.delete(slot.key);
        reservations.forget(slot.key);
        leases?.drop(slot.key);
        if (leases === null) this.parts.remove(slot.key);
        continue;
      }
      if (!expire || session.ended || leases?.has(slot.key)) continue; // the shared store decides leased sessions' ends
      const reason = expiryReason(session, now, slot.background, policy);
      if (reason !== null) lifecycle.ended(slot, endSession(session), reason);
    }
  }

  /** The request scope's key (and its `uid` on the payload), else `sessionKey(payload)`, else the default session. */
  #keyOf(payload: Payload, scope: Scope | undefined): string | undefined {
    if (scope !== undefined) {
      if (scope.uid === null) delete payload.uid;
      else payload.uid = scope.uid;
      if (scope.key !== undefined) return scope.key;
    }
    const { sessionKey } = this.parts;
    if (sessionKey === undefined) return undefined;
    try {
      const key = sessionKey(payload);
      return typeof key === 'string' && key !== '' ? key : undefined;
    } catch (error) {
      this.parts.logger.error('snowplow-client-session: sessionKey threw; the event goes to the default session', error);
      return undefined;
    }
  }

  /**
   * A session leased from a shared store: the store decided it, the event takes a leased index. When the
   * session has timed out since the last successful `load()` (the store is down), the local rules take over.
   */
  #leased(slot: Slot, event: SessionEvent): Counted | null {
    const { leases, policy, storageMechanism } = this.parts;
    if (leases === null || slot.session === null || !leases.has(slot.key)) return null;
    const leasedEvent = { ...event, now: leases.storeTime(event.now) };
    if (expiryReason(slot.session, leasedEvent.now, slot.background, policy) !== null) {
      leases.drop(slot.key);
      return null;
    }
    const index = leases.take(slot.key);
    const state = countLeasedEvent(slot.session, leasedEvent, index);
    const unknownActivity = leasedEvent.now - (leases.storeActivityAt(slot.key) ?? -Infinity);
    const write = index === 1 ? 'now' : unknownActivity > LEASED_ACTIVITY_SLACK_MS ? 'paced' : 'none';
    return { state, entity: { ...clientSessionEntity(state, storageMechanism, slot.anonymous), eventIndex: index }, write };
  }

  #local(slot: Slot, event: SessionEvent): Counted {
    const { policy, lifecycle, reservations, storageMechanism } = this.parts;
    if (policy.eventTime === true) this.#late.check(slot.session, event.now, policy);
    const decision = nextSessionState(slot.session, event, policy, uuidv4, slot.userId);
    // Ending and opening are facts whatever happens to this event, and their events must precede it.
    if (decision.ended !== null) lifecycle.ended(slot, decision.ended.session, decision.ended.reason);
    if (decision.opened !== null) lifecycle.opened(slot, decision.opened);
    reservations.ensure(slot.key, decision.state);
    return { state: decision.state, entity: clientSessionEntity(decision.state, storageMechanism, slot.anonymous), write: 'paced' };
  }

  /**
   * The atomic session fields: `sid`/`vid` of this session with `atomicSessionFields`, then the request's
   * browser ids (joined sessions), which win: a data model's web session is the browser's.
   */
  #writeAtomicFields(pb: PayloadBuilder, state: SessionState, scope: Scope | undefined, anonymous: boolean): WrittenIds | null {
    const browserIds = scope?.browserIds ?? null;
    if (!this.parts.atomicSessionFields && browserIds === null) return null;
    const written: WrittenIds = {};
    if (this.parts.atomicSessionFields) writeAtomicIds(pb, { duid: null, nuid: null, sid: state.sessionId, vid: state.sessionIndex }, anonymous, written);
    if (browserIds !== null) writeAtomicIds(pb, browserIds, anonymous, written);
    return written;
  }
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
