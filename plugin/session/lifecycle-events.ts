import type { SelfDescribingJson } from '@snowplow/tracker-core';
import { SESSION_END_SCHEMA, SESSION_START_SCHEMA } from '../schema-uris.js';
import { ANONYMOUS_USER_ID } from './entity.js';
import { isoTimestamp, type SessionEndReason, type SessionState } from './state.js';

/** A lifecycle event to track: the self-describing event and the true timestamp it is dated at. */
export interface LifecycleEvent {
  event: SelfDescribingJson;
  timestamp: number;
}

/** `session_start`, dated when the session opened. */
export function sessionStartEvent(session: SessionState, anonymous = false): LifecycleEvent {
  return { event: { schema: SESSION_START_SCHEMA, data: identity(session, anonymous) }, timestamp: session.startedAt };
}

/** `session_end`, dated at the session's last activity, not when the end was discovered. */
export function sessionEndEvent(session: SessionState, reason: SessionEndReason, anonymous = false): LifecycleEvent {
  return {
    event: {
      schema: SESSION_END_SCHEMA,
      data: {
        ...identity(session, anonymous),
        endedAt: isoTimestamp(session.lastActivityAt),
        durationMs: Math.max(0, session.lastActivityAt - session.startedAt),
        eventCount: session.eventIndex,
        reason,
      },
    },
    timestamp: session.lastActivityAt,
  };
}

/** What both events say about the session (anonymously: no user identity, as in the entity). */
function identity(session: SessionState, anonymous: boolean) {
  return {
    sessionId: session.sessionId,
    sessionIndex: session.sessionIndex,
    previousSessionId: anonymous ? null : session.previousSessionId,
    userId: anonymous ? ANONYMOUS_USER_ID : session.userId,
    startedAt: isoTimestamp(session.startedAt),
  };
}
