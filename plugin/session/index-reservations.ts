import { logFailure } from '../util/describe-error.js';
import type { SessionLogger } from './options.js';
import { MAX_INDEX, type SessionState } from './state.js';
import type { SessionStore } from '../stores/session-store.js';

/** Event indexes reserved at once: doubling per session up to the maximum, so bursts cost few journal appends. */
const FIRST_BLOCK = 64;
const MAX_BLOCK = 8192;

interface Reservation {
  sessionId: string | null;
  upTo: number;
  block: number;
}

/**
 * Before an event index is emitted, the store records it as possibly emitted (`reserveEventIndex`,
 * synchronous), so a crash never makes the next process repeat it. A no-op for stores without it.
 */
export class IndexReservations {
  readonly #byKey = new Map<string | undefined, Reservation>();
  /** True while appends fail: the failure is logged once per streak. */
  #failing = false;

  constructor(
    private readonly store: SessionStore,
    private readonly logger: SessionLogger,
  ) {}

  /** A session loaded from the store continues after its reservations: its `eventIndex` is already safe. */
  seed(key: string | undefined, session: SessionState | null): void {
    if (session !== null) this.#byKey.set(key, { sessionId: session.sessionId, upTo: session.eventIndex, block: FIRST_BLOCK });
  }

  /** Makes sure `session.eventIndex` is reserved before the event carrying it leaves. */
  ensure(key: string | undefined, session: SessionState): void {
    if (this.store.reserveEventIndex === undefined) return;
    let reservation = this.#byKey.get(key);
    if (reservation === undefined || reservation.sessionId !== session.sessionId) {
      reservation = { sessionId: session.sessionId, upTo: 0, block: FIRST_BLOCK };
      this.#byKey.set(key, reservation);
    }
    if (session.eventIndex <= reservation.upTo) return;
    const upTo = Math.min(session.eventIndex + reservation.block - 1, MAX_INDEX);
    try {
      this.store.reserveEventIndex(session.sessionId, upTo, key);
      reservation.upTo = upTo;
      reservation.block = Math.min(reservation.block * 2, MAX_BLOCK);
      if (this.#failing) this.logger.warn('snowplow-client-session: event indexes are reserved in the store again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) logFailure(this.logger, 'snowplow-client-session: cannot reserve event indexes in the store (logged once until it works again); a crash now could repeat an eventIndex', error);
      this.#failing = true;
    }
  }

  forget(key: string | undefined): void {
    this.#byKey.delete(key);
  }
}
