/**
 * The sessions view's data: per user, the sessions read from the `client_session` entities of the stored
 * events, with their events, the `session_end` reason when one was tracked, and the background periods
 * that `application_background` / `application_foreground` events mark.
 */
import type { StoredEvent } from './event-cache.js';
import { shreddedColumn } from './enriched-event.js';
import { APPLICATION_BACKGROUND_SCHEMA, APPLICATION_FOREGROUND_SCHEMA, CLIENT_SESSION_SCHEMA, SESSION_END_SCHEMA, SESSION_START_SCHEMA } from '../schema-uris.js';

const ENTITY_COLUMN = shreddedColumn('contexts_', CLIENT_SESSION_SCHEMA)!;
const SESSION_END_COLUMN = shreddedColumn('unstruct_event_', SESSION_END_SCHEMA)!;
const SESSION_START_COLUMN = shreddedColumn('unstruct_event_', SESSION_START_SCHEMA)!;
/** At the same time, a session's start comes first and its end last. */
const LIFECYCLE_ORDER = { start: 0, null: 1, end: 2 };
const BACKGROUND_COLUMN = shreddedColumn('unstruct_event_', APPLICATION_BACKGROUND_SCHEMA)!;
const FOREGROUND_COLUMN = shreddedColumn('unstruct_event_', APPLICATION_FOREGROUND_SCHEMA)!;

/** Users, sessions per user and event marks per session that one answer holds at most. */
export const TIMELINE_LIMITS = { users: 200, sessionsPerUser: 200, eventsPerSession: 500 };

export interface SessionEventMark {
  /** Device time (ms): the clock the session's timeouts run on; the collector's when the event has none. */
  time: number;
  eventIndex: number | null;
  name: string;
  eventId: string | null;
  valid: boolean;
  /** A `session_start` or `session_end` event (dated at the session's first or last activity). */
  lifecycle: 'start' | 'end' | null;
}

export interface SessionSpan {
  sessionId: string;
  sessionIndex: number | null;
  previousSessionId: string | null;
  storageMechanism: string | null;
  /** `firstEventTimestamp` of the entity (ms), else the first event's time. */
  start: number;
  /** The last event's time, or the `session_end` event's `endedAt`. */
  end: number;
  /** From a tracked `session_end` event: why and when the session ended. */
  ended: { reason: string; endedAt: number | null; eventCount: number | null } | null;
  eventCount: number;
  events: SessionEventMark[];
}

export interface UserTimeline {
  userId: string;
  sessions: SessionSpan[];
  /** Background periods (ms); `end` null while still in the background at the last event. */
  background: Array<{ start: number; end: number | null }>;
  /** Sessions left out beyond `TIMELINE_LIMITS.sessionsPerUser` (the oldest go). */
  sessionsLeftOut: number;
}

export interface SessionsReport {
  users: UserTimeline[];
  usersLeftOut: number;
}

interface Entity {
  sessionId?: unknown;
  userId?: unknown;
  sessionIndex?: unknown;
  previousSessionId?: unknown;
  storageMechanism?: unknown;
  firstEventTimestamp?: unknown;
  eventIndex?: unknown;
}

/** Builds the timelines from the stored events (any order); `userFilter` keeps users whose id contains it. */
export function sessionTimelines(stored: Iterable<StoredEvent>, userFilter = ''): SessionsReport {
  const users = new Map<string, { sessions: Map<string, SessionSpan>; marks: Array<{ time: number; background: boolean }> }>();
  const ends = new Map<string, SessionSpan['ended'] & { at: number }>();
  const wanted = userFilter.toLowerCase();
  for (const event of stored) {
    const row = event.row;
    const time = eventTime(event);
    const end = row[SESSION_END_COLUMN] as Record<string, unknown> | undefined;
    if (end !== undefined && typeof end.sessionId === 'string') {
      ends.set(end.sessionId, { reason: String(end.reason), endedAt: msOf(end.endedAt), eventCount: typeof end.eventCount === 'number' ? end.eventCount : null, at: time });
    }
    const entity = (row[ENTITY_COLUMN] as Entity[] | undefined)?.[0];
    if (entity === undefined || typeof entity.sessionId !== 'string' || typeof entity.userId !== 'string') continue;
    if (wanted !== '' && !entity.userId.toLowerCase().includes(wanted)) continue;
    let user = users.get(entity.userId);
    if (user === undefined) users.set(entity.userId, (user = { sessions: new Map(), marks: [] }));
    if (row[BACKGROUND_COLUMN] !== undefined) user.marks.push({ time, background: true });
    if (row[FOREGROUND_COLUMN] !== undefined) user.marks.push({ time, background: false });
    addEvent(user.sessions, entity, event, time);
  }
  const all = [...users].map(([userId, { sessions, marks }]) => userTimeline(userId, [...sessions.values()], marks, ends));
  all.sort((a, b) => lastTime(b) - lastTime(a));
  return { users: all.slice(0, TIMELINE_LIMITS.users), usersLeftOut: Math.max(0, all.length - TIMELINE_LIMITS.users) };
}

function addEvent(sessions: Map<string, SessionSpan>, entity: Entity, event: StoredEvent, time: number): void {
  const id = entity.sessionId as string;
  let session = sessions.get(id);
  if (session === undefined) {
    const first = msOf(entity.firstEventTimestamp);
    session = {
      sessionId: id,
      sessionIndex: typeof entity.sessionIndex === 'number' ? entity.sessionIndex : null,
      previousSessionId: typeof entity.previousSessionId === 'string' ? entity.previousSessionId : null,
      storageMechanism: typeof entity.storageMechanism === 'string' ? entity.storageMechanism : null,
      start: first ?? time,
      end: time,
      ended: null,
      eventCount: 0,
      events: [],
    };
    sessions.set(id, session);
  }
  session.start = Math.min(session.start, time);
  session.end = Math.max(session.end, time);
  session.eventCount++;
  session.events.push({
    time,
    eventIndex: typeof entity.eventIndex === 'number' ? entity.eventIndex : null,
    name: eventName(event.row),
    eventId: typeof event.row.event_id === 'string' ? event.row.event_id : null,
    valid: event.valid,
    lifecycle: event.row[SESSION_START_COLUMN] !== undefined ? 'start' : event.row[SESSION_END_COLUMN] !== undefined ? 'end' : null,
  });
}

function userTimeline(userId: string, sessions: SessionSpan[], marks: Array<{ time: number; background: boolean }>, ends: Map<string, SessionSpan['ended'] & { at: number }>): UserTimeline {
  for (const session of sessions) {
    const end = ends.get(session.sessionId);
    if (end !== undefined) {
      session.ended = { reason: end.reason, endedAt: end.endedAt, eventCount: end.eventCount };
      session.end = Math.max(session.end, end.endedAt ?? end.at);
    }
    session.events.sort((a, b) => a.time - b.time || LIFECYCLE_ORDER[`${a.lifecycle}`] - LIFECYCLE_ORDER[`${b.lifecycle}`] || (a.eventIndex ?? 0) - (b.eventIndex ?? 0));
    if (session.events.length > TIMELINE_LIMITS.eventsPerSession) session.events = session.events.slice(-TIMELINE_LIMITS.eventsPerSession);
  }
  sessions.sort((a, b) => a.start - b.start || (a.sessionIndex ?? 0) - (b.sessionIndex ?? 0));
  const kept = sessions.slice(-TIMELINE_LIMITS.sessionsPerUser);
  return { userId, sessions: kept, background: backgroundPeriods(marks), sessionsLeftOut: sessions.length - kept.length };
}

/** Pairs each `application_background` with the next `application_foreground`. */
function backgroundPeriods(marks: Array<{ time: number; background: boolean }>): UserTimeline['background'] {
  marks.sort((a, b) => a.time - b.time);
  const periods: UserTimeline['background'] = [];
  for (const mark of marks) {
    const open = periods.at(-1);
    if (mark.background && (open === undefined || open.end !== null)) periods.push({ start: mark.time, end: null });
    else if (!mark.background && open !== undefined && open.end === null) open.end = mark.time;
  }
  return periods;
}

/** What the UI calls an event: the self-describing event's name, else the event type (or struct action). */
export function eventName(row: Record<string, unknown>): string {
  if (row.event === 'struct' && typeof row.se_action === 'string') return row.se_action;
  return String(row.event_name ?? row.event ?? 'unknown');
}

function eventTime(event: StoredEvent): number {
  return msOf(event.row.true_tstamp) ?? msOf(event.row.dvce_created_tstamp) ?? event.time;
}

function lastTime(user: UserTimeline): number {
  return user.sessions.at(-1)?.end ?? 0;
}

function msOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}
