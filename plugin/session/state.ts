/**
 * The session state machine. Pure: no I/O, no timers, no clock and no randomness; the caller passes the
 * time and an id generator in and gets the next state and what happened out.
 */

/** The schema's maximum for `sessionIndex` and `eventIndex` (a signed 32-bit integer). */
export const MAX_INDEX = 2_147_483_647;

/**
 * Why a session ended: `anonymous` (anonymous tracking switched), `restart` (a new process with
 * `continueSessionOnRestart: false`), `reset` (`reset()`: a new user identity).
 */
export type SessionEndReason = 'timeout' | 'backgroundTimeout' | 'maxLength' | 'manual' | 'userChange' | 'clock' | 'anonymous' | 'restart' | 'reset';

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
  /** Ended (by the checker, or just before a new session opened): the next event opens a new session. */
  ended?: boolean;
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
  /** Session checking is suspended (`suspend()`): time ends no session. */
  suspended?: boolean;
  /**
   * Sessionizing by event time (`clock: 'event'`): `now` is the event's own time, and an event older than its
   * session's last activity is late, not a clock change (see `nextSessionState`).
   */
  eventTime?: boolean;
}

export interface SessionEvent {
  /** The event's `eid`. */
  eventId: string;
  /** The event's `ttm` or `dtm`, ms since epoch. */
  eventTimestamp: number;
  /** The time of the decision, ms since epoch. */
  now: number;
  background: boolean;
  /** A new session was asked for (`startNewSession()`, `setAnonymous()`): why, or `null`. */
  forceNewSession: SessionEndReason | null;
  /** The event's `uid` (from `setUserId`), if any. */
  uid?: string | null;
}

export interface SessionDecision {
  /** The session with this event counted. */
  state: SessionState;
  /** The session this event opened, as it was before the event (`eventIndex` 0), if it opened one. */
  opened: SessionState | null;
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
  // The schema caps eventIndex: a session that used every index must give way to a new one.
  if (session.eventIndex >= MAX_INDEX) return 'maxLength';
  if (policy.suspended === true) return null;
  if (now < session.lastActivityAt - policy.clockTolerance) return 'clock';
  const idle = now - session.lastActivityAt;
  if (background && idle > policy.backgroundTimeout) return 'backgroundTimeout';
  if (!background && idle > policy.foregroundTimeout) return 'timeout';
  if (policy.maxSessionLength > 0 && now - session.startedAt > policy.maxSessionLength) return 'maxLength';
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
  if (previous !== null && !previous.ended) {
    // By event time, an event older than the session's last activity arrived late (out of order): it joins
    // the current session and moves no time, so reordering never splits a session or ends one.
    if (policy.eventTime === true && event.forceNewSession === null && event.now < previous.lastActivityAt && previous.eventIndex < MAX_INDEX) {
      return { state: countEvent(previous, { ...event, now: previous.lastActivityAt }, previous.lastUid ?? null), opened: null, ended: null };
    }
    const reason = endReasonFor(previous, event, policy, uid);
    if (reason === null) return { state: countEvent(previous, event, uid), opened: null, ended: null };
    const opened = openSession(previous.userId, previous, event.now, newId, uid);
    return { state: countEvent(opened, event, uid), opened, ended: { session: endSession(previous), reason } };
  }
  // No session yet, or one that was already ended (and reported) by the checker.
  const opened = openSession(previous?.userId ?? userId, previous, event.now, newId, uid);
  return { state: countEvent(opened, event, uid), opened, ended: null };
}

/** The session marked as ended; it keeps its fields, for the callbacks and the session_end event. */
export function endSession(session: SessionState): SessionState {
  return { ...session, ended: true };
}

function endReasonFor(
  previous: SessionState,
  event: SessionEvent,
  policy: SessionPolicy,
  uid: string | null,
): SessionEndReason | null {
  if (event.forceNewSession !== null) return event.forceNewSession;
  const expired = expiryReason(previous, event.now, event.background, policy);
  if (expired !== null) return expired;
  // A user change is only meaningful between two known users, not on the first setUserId.
  if (policy.newSessionOnUserChange && uid !== null && (previous.lastUid ?? null) !== null && uid !== previous.lastUid) {
    return 'userChange';
  }
  return null;
}

/** A new session before its first event: the first event fills in `eventIndex` and the first-event fields. */
function openSession(userId: string, previous: SessionState | null, now: number, newId: () => string, uid: string | null): SessionState {
  return {
    userId,
    sessionId: newId(),
    previousSessionId: previous?.sessionId ?? null,
    // After 2^31-1 sessions the index stays at the schema maximum rather than emit an invalid entity.
    sessionIndex: Math.min((previous?.sessionIndex ?? 0) + 1, MAX_INDEX),
    eventIndex: 0,
    firstEventId: null,
    firstEventTimestamp: null,
    startedAt: now,
    lastActivityAt: now,
    lastUid: uid,
  };
}

function countEvent(session: SessionState, event: SessionEvent, uid: string | null): SessionState {
  const first = session.eventIndex === 0;
  // Written out rather than spread: this runs on every event, and a literal of fixed shape is much cheaper.
  return {
    userId: session.userId,
    sessionId: session.sessionId,
    previousSessionId: session.previousSessionId,
    sessionIndex: session.sessionIndex,
    eventIndex: session.eventIndex + 1,
    firstEventId: first ? event.eventId : session.firstEventId,
    firstEventTimestamp: first ? isoTimestamp(event.eventTimestamp) : session.firstEventTimestamp,
    startedAt: session.startedAt,
    lastActivityAt: event.now,
    lastUid: uid,
  };
}

/** `ms` as ISO-8601 UTC with milliseconds, or `null` when it is not a representable date. */
export function isoTimestamp(ms: number): string | null {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * One more event of a session leased from a shared store: `index` comes from the lease's block (`null`
 * once the block is used up: better no index than one another process may also use). The session's
 * rotation was decided by the store; this only records the event.
 */
export function countLeasedEvent(session: SessionState, event: SessionEvent, index: number | null): SessionState {
  const first = index === 1;
  return {
    ...session,
    eventIndex: index ?? session.eventIndex,
    firstEventId: first ? event.eventId : session.firstEventId,
    firstEventTimestamp: first ? isoTimestamp(event.eventTimestamp) : session.firstEventTimestamp,
    lastActivityAt: Math.max(session.lastActivityAt, event.now),
    lastUid: event.uid ?? null,
  };
}
