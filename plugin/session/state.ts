/**
 * The session state machine. Pure: no I/O, no timers, no clock and no randomness; the caller passes the
 * time and an id generator in and gets the next state and what happened out.
 */

/** The schema's maximum for `sessionIndex` and `eventIndex` (a signed 32-bit integer). */
export const MAX_INDEX = 2_147_483_647;

/** Why a session ended. */
export type SessionEndReason = 'timeout' | 'backgroundTimeout' | 'maxLength' | 'manual' | 'userChange' | 'clock';

/** One user's session as it is kept in memory and in a `SessionStore` (its JSON form). */
export interface SessionState {
  /** Made once per store (or per key) and kept across sessions and restarts. */
  userId: string;
  sessionId: string;
  previousSessionId: string | null;
  /** 1 for the first session. */
  sessionIndex: number;
  /** Index of the last event of this session (1 for the first event). */
  eventIndex: number;
  firstEventId: string | null;
  /** ISO-8601 UTC with milliseconds. */
  firstEventTimestamp: string | null;
  /** `now()` at the session's first event, ms since epoch. */
  startedAt: number;
  /** `now()` at the session's last event, ms since epoch. */
  lastActivityAt: number;
  /** The `uid` of the last event, for `newSessionOnUserChange`. */
  lastUid?: string | null;
}

/** The timing rules, in milliseconds. */
export interface SessionPolicy {
  foregroundTimeout: number;
  backgroundTimeout: number;
  /** Rotate sessions older than this; `0` is off. */
  maxSessionLength: number;
  /** How far `now()` may run backwards before it counts as a clock change. */
  clockTolerance: number;
  newSessionOnUserChange: boolean;
}

export interface SessionEvent {
  /** The event's `eid`. */
  eventId: string;
  /** The event's `ttm` or `dtm`, ms since epoch. */
  eventTimestamp: number;
  /** The time of the decision, ms since epoch. */
  now: number;
  background: boolean;
  /** A new session was asked for (`startNewSession()`). */
  forceNewSession: boolean;
  /** The event's `uid` (from `setUserId`), if any. */
  uid?: string | null;
}

export interface SessionDecision {
  state: SessionState;
  /** The session this event opened, if it opened one. */
  started: boolean;
  /** The session this event closed and why, if it closed one. */
  ended: { session: SessionState; reason: SessionEndReason } | null;
}

/**
 * Why `session` has expired at `now`, or `null` while it is alive. Used on every event and by the
 * periodic checker. Order matters: a clock that ran backwards makes every elapsed time meaningless.
 */
export function expiryReason(
  session: SessionState,
  now: number,
  background: boolean,
  policy: SessionPolicy,
): SessionEndReason | null {
  if (now < session.lastActivityAt - policy.clockTolerance) return 'clock';
  const idle = now - session.lastActivityAt;
  if (background && idle > policy.backgroundTimeout) return 'backgroundTimeout';
  if (!background && idle > policy.foregroundTimeout) return 'timeout';
  if (policy.maxSessionLength > 0 && now - session.startedAt > policy.maxSessionLength) return 'maxLength';
  // The schema caps eventIndex: a session that used every index must give way to a new one.
  if (session.eventIndex >= MAX_INDEX) return 'maxLength';
  return null;
}

/**
 * The session state after one more event. `previous` is the stored state (or `null` for a store that has
 * never seen an event); `userId` is used only when `previous` is null.
 */
export function nextSessionState(
  previous: SessionState | null,
  event: SessionEvent,
  policy: SessionPolicy,
  newId: () => string,
  userId: string,
): SessionDecision {
  const uid = event.uid ?? null;
  if (previous !== null) {
    const reason = endReasonFor(previous, event, policy, uid);
    if (reason === null) {
      return {
        state: { ...previous, eventIndex: previous.eventIndex + 1, lastActivityAt: event.now, lastUid: uid },
        started: false,
        ended: null,
      };
    }
    return {
      state: openSession(previous.userId, previous, event, newId, uid),
      started: true,
      ended: { session: previous, reason },
    };
  }
  return { state: openSession(userId, null, event, newId, uid), started: true, ended: null };
}

function endReasonFor(
  previous: SessionState,
  event: SessionEvent,
  policy: SessionPolicy,
  uid: string | null,
): SessionEndReason | null {
  if (event.forceNewSession) return 'manual';
  const expired = expiryReason(previous, event.now, event.background, policy);
  if (expired !== null) return expired;
  // A user change is only meaningful between two known users, not on the first setUserId.
  if (policy.newSessionOnUserChange && uid !== null && (previous.lastUid ?? null) !== null && uid !== previous.lastUid) {
    return 'userChange';
  }
  return null;
}

function openSession(
  userId: string,
  previous: SessionState | null,
  event: SessionEvent,
  newId: () => string,
  uid: string | null,
): SessionState {
  return {
    userId,
    sessionId: newId(),
    previousSessionId: previous?.sessionId ?? null,
    // After 2^31-1 sessions the index stays at the schema maximum rather than emit an invalid entity.
    sessionIndex: Math.min((previous?.sessionIndex ?? 0) + 1, MAX_INDEX),
    eventIndex: 1,
    firstEventId: event.eventId,
    firstEventTimestamp: isoTimestamp(event.eventTimestamp),
    startedAt: event.now,
    lastActivityAt: event.now,
    lastUid: uid,
  };
}

/** `ms` as ISO-8601 UTC with milliseconds, or `null` when it is not a representable date. */
export function isoTimestamp(ms: number): string | null {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
