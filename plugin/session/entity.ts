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

export function clientSessionEntity(state: SessionState, storageMechanism: StorageMechanism): ClientSessionEntity {
  return {
    userId: state.userId,
    sessionId: state.sessionId,
    sessionIndex: state.sessionIndex,
    eventIndex: state.eventIndex,
    previousSessionId: state.previousSessionId,
    storageMechanism,
    firstEventId: state.firstEventId,
    firstEventTimestamp: state.firstEventTimestamp,
  };
}
