import { describe, expect, it } from '@jest/globals';
import { endSession, expiryReason, MAX_INDEX, nextSessionState, type SessionEvent, type SessionPolicy, type SessionState } from '../plugin/session/state.js';

const policy: SessionPolicy = {
  foregroundTimeout: 600_000,
  backgroundTimeout: 300_000,
  maxSessionLength: 0,
  clockTolerance: 1_000,
  newSessionOnUserChange: false,
};
const T0 = Date.UTC(2022, 3, 17);
let counter = 0;
const newId = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;
const USER = '11111111-1111-4111-8111-111111111111';

function event(now: number, overrides: Partial<SessionEvent> = {}): SessionEvent {
  return { eventId: newId(), eventTimestamp: now, now, background: false, forceNewSession: null, ...overrides };
}

function first(): SessionState {
  return nextSessionState(null, event(T0), policy, newId, USER).state;
}

describe('nextSessionState', () => {
  it('opens the first session with index 1, no previous session and the first event fields', () => {
    const e = event(T0);
    const decision = nextSessionState(null, e, policy, newId, USER);
    expect(decision.opened).not.toBeNull();
    expect(decision.ended).toBeNull();
    expect(decision.state).toMatchObject({
      userId: USER,
      sessionIndex: 1,
      eventIndex: 1,
      previousSessionId: null,
      firstEventId: e.eventId,
      firstEventTimestamp: '2022-04-17T00:00:00.000Z',
    });
  });

  it('counts events inside a session and keeps the first event fields', () => {
    const s1 = first();
    const d = nextSessionState(s1, event(T0 + 1000), policy, newId, 'ignored');
    expect(d.opened).toBeNull();
    expect(d.state).toMatchObject({ sessionId: s1.sessionId, eventIndex: 2, firstEventId: s1.firstEventId, userId: USER });
    expect(d.state.lastActivityAt).toBe(T0 + 1000);
  });

  it('keeps the session at exactly the foreground timeout and rotates one millisecond after it', () => {
    const s1 = first();
    expect(nextSessionState(s1, event(T0 + 600_000), policy, newId, USER).opened).toBeNull();
    const d = nextSessionState(s1, event(T0 + 600_001), policy, newId, USER);
    expect(d.opened).not.toBeNull();
    expect(d.ended?.reason).toBe('timeout');
    expect(d.state).toMatchObject({ sessionIndex: 2, eventIndex: 1, previousSessionId: s1.sessionId, userId: USER });
    expect(d.state.sessionId).not.toBe(s1.sessionId);
  });

  it('uses the background timeout while in the background', () => {
    const s1 = first();
    expect(nextSessionState(s1, event(T0 + 300_001), policy, newId, USER).opened).toBeNull();
    const d = nextSessionState(s1, event(T0 + 300_001, { background: true }), policy, newId, USER);
    expect(d.ended?.reason).toBe('backgroundTimeout');
  });

  it('opens a new session when asked, whatever the time', () => {
    const d = nextSessionState(first(), event(T0 + 1, { forceNewSession: 'manual' }), policy, newId, USER);
    expect(d.ended?.reason).toBe('manual');
    expect(d.state.sessionIndex).toBe(2);
  });

  it('treats a clock that ran backwards beyond the tolerance as a new session', () => {
    const s1 = first();
    expect(nextSessionState(s1, event(T0 - 999), policy, newId, USER).opened).toBeNull();
    expect(nextSessionState(s1, event(T0 - 1001), policy, newId, USER).ended?.reason).toBe('clock');
  });

  it('rotates sessions older than maxSessionLength', () => {
    const long = { ...policy, maxSessionLength: 3_600_000 };
    let s = nextSessionState(null, event(T0), long, newId, USER).state;
    for (let t = T0 + 500_000; t <= T0 + 3_600_000; t += 500_000) s = nextSessionState(s, event(t), long, newId, USER).state;
    expect(s.sessionIndex).toBe(1);
    expect(nextSessionState(s, event(T0 + 3_600_001), long, newId, USER).ended?.reason).toBe('maxLength');
  });

  it('opens a new session when the uid changes, only when asked to', () => {
    const withUser = { ...policy, newSessionOnUserChange: true };
    const s1 = nextSessionState(null, event(T0, { uid: 'alice' }), withUser, newId, USER).state;
    expect(nextSessionState(s1, event(T0 + 1, { uid: 'bob' }), policy, newId, USER).opened).toBeNull();
    expect(nextSessionState(s1, event(T0 + 1, { uid: 'bob' }), withUser, newId, USER).ended?.reason).toBe('userChange');
    expect(nextSessionState(s1, event(T0 + 1, { uid: 'alice' }), withUser, newId, USER).opened).toBeNull();
  });

  it('never emits an eventIndex or sessionIndex above the schema maximum', () => {
    const full: SessionState = { ...first(), eventIndex: MAX_INDEX, sessionIndex: MAX_INDEX };
    const d = nextSessionState(full, event(T0 + 1), policy, newId, USER);
    expect(d.ended?.reason).toBe('maxLength');
    expect(d.state.eventIndex).toBe(1);
    expect(d.state.sessionIndex).toBe(MAX_INDEX);
  });

  it('gives a null firstEventTimestamp for a timestamp no Date can hold', () => {
    const d = nextSessionState(null, event(T0, { eventTimestamp: 8.64e15 + 1 }), policy, newId, USER);
    expect(d.state.firstEventTimestamp).toBeNull();
  });
});

describe('ended and freshly opened sessions', () => {
  it('opens a new session after one the checker ended, without reporting the end twice', () => {
    const s1 = endSession(first());
    const d = nextSessionState(s1, event(T0 + 1000), policy, newId, 'ignored');
    expect(d.ended).toBeNull();
    expect(d.opened).toMatchObject({ sessionIndex: 2, eventIndex: 0, previousSessionId: s1.sessionId, userId: USER, firstEventId: null });
    expect(d.state).toMatchObject({ sessionIndex: 2, eventIndex: 1, firstEventId: expect.any(String) });
  });

  it('gives the first counted event of an opened session index 1 and the first-event fields', () => {
    const d = nextSessionState(null, event(T0), policy, newId, USER);
    const e = event(T0 + 5);
    const next = nextSessionState(d.opened, e, policy, newId, USER); // the first event was dropped by a filter
    expect(next.opened).toBeNull();
    expect(next.state).toMatchObject({ sessionId: d.opened!.sessionId, eventIndex: 1, firstEventId: e.eventId });
  });
});

describe('expiryReason', () => {
  it('is null while the session is alive', () => {
    expect(expiryReason(first(), T0 + 1000, false, policy)).toBeNull();
  });
});
