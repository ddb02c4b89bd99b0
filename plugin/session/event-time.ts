import type { Payload } from '@snowplow/tracker-core';
import type { SessionLogger } from './options.js';
import type { SessionPolicy, SessionState } from './state.js';

/**
 * Sessionizing by event time (`clock: 'event'`): each key's session is measured between that key's own
 * events' times, so a backlog processed in a burst splits where its timestamps say.
 *
 * - An event's time is its true timestamp (`ttm`), else its `dtm`. One ahead of the clock counts as now: a
 *   producer's clock running ahead must not hold a session open until real time catches up.
 * - An event older than its session's last activity is **late**: it joins the current session (next
 *   `eventIndex`), moves no time, and never ends or opens a session (see `nextSessionState`).
 * - Keys are independent: out of order across keys changes nothing. For that reason the checker ends no
 *   event-time session (another key's newer time says nothing about this key's lateness): a session ends
 *   when its key's next event shows the gap. Keys are forgotten after `retention` measured against the
 *   newest event time seen, so a backfill's old keys are not dropped by the wall clock.
 */
export function eventTimeOf(payload: Payload, now: number): number {
  const time = Number(payload.ttm ?? payload.dtm);
  return Number.isFinite(time) && time <= now ? time : now;
}

/** The newest last activity of the sessions given: the event clock's "now" for retention. */
export function newestActivity(sessions: Iterable<SessionState | null>, fallback: number): number {
  let newest = -Infinity;
  for (const session of sessions) if (session !== null && session.lastActivityAt > newest) newest = session.lastActivityAt;
  return newest === -Infinity ? fallback : newest;
}

/** Says once that a backlog is not ordered per key: a late event older than its whole session (by more than the timeout). */
export class LateEventWarning {
  #warned = false;

  constructor(private readonly logger: SessionLogger) {}

  check(session: SessionState | null, time: number, policy: SessionPolicy): void {
    if (this.#warned || session === null || session.ended || time >= session.startedAt - policy.foregroundTimeout) return;
    this.#warned = true;
    this.logger.warn(
      `snowplow-client-session: an event dated ${new Date(time).toISOString()} arrived after its key's session that started ${new Date(session.startedAt).toISOString()}; ` +
        'with clock \'event\' a late event joins the current session, so order a backlog by time within each key (warned once)',
    );
  }
}
