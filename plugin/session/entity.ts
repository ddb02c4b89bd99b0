import type { StorageMechanism } from '../stores/session-store.js';
import type { SessionState } from './state.js';

/** The data of a `client_session` 1-0-2 entity. */
export interface ClientSessionEntity {
  userId: string;
  sessionId: string;
  sessionIndex: number;
  eventIndex: number | null;
  previousSessionId: string | null;
  storageMechanism: StorageMechanism;
  firstEventId: string | null;
  firstEventTimestamp: string | null;
}

/** The `userId` of anonymous tracking (the mobile trackers' `userAnonymisation`): the nil UUID. */
export const ANONYMOUS_USER_ID = '00000000-0000-0000-0000-000000000000';

/** The entity of `state`; with `anonymous`, without the user's identity (nil `userId`, no `previousSessionId`). */
export function clientSessionEntity(state: SessionState, storageMechanism: StorageMechanism, anonymous = false): ClientSessionEntity {
  return {
    userId: anonymous ? ANONYMOUS_USER_ID : state.userId,
    sessionId: state.sessionId,
    sessionIndex: state.sessionIndex,
    eventIndex: state.eventIndex,
    previousSessionId: anonymous ? null : state.previousSessionId,
    storageMechanism,
    firstEventId: state.firstEventId,
    firstEventTimestamp: state.firstEventTimestamp,
  };
}
