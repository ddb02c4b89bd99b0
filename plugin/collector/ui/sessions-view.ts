/** The sessions tab: per user, a timeline of sessions from the `client_session` entities (`GET /micro/sessions`). */
import type { SessionSpan, UserTimeline } from '../session-timeline.js';
import { api } from './api.js';
import { fill, formatDuration, formatTime, h, s } from './dom.js';

const WIDTH = 1000;
/** Room on the right for the last session's end reason, on the left for a short first session's number. */
const RIGHT_MARGIN = 150;
const LEFT_MARGIN = 36;
const ROW = 34;
const GAP_LABEL_MIN = 40; // px: gaps narrower than this get no label

export interface SessionsView {
  element: HTMLElement;
  refresh(): Promise<void>;
}

export function sessionsView(): SessionsView {
  let user = '';
  const list = h('div', { class: 'users', 'data-testid': 'sessions-users' });
  const status = h('p', { class: 'status' });
  const refresh = async () => {
    try {
      const report = await api.sessions(user);
      fill(list, ...(report.users.length === 0 ? [h('p', { class: 'empty' }, 'No events with a client_session entity yet.')] : report.users.map(userView)));
      fill(status, report.usersLeftOut > 0 ? `${report.usersLeftOut} more users not shown: filter by user.` : '');
    } catch (error) {
      fill(status, `Could not load sessions: ${(error as Error).message}`);
    }
  };
  const filter = h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
    h('label', {}, 'User ', h('input', { type: 'search', 'data-testid': 'sessions-user-filter', placeholder: 'contains…', oninput: (e) => { user = (e.target as HTMLInputElement).value; void refresh(); } })),
    h('span', { class: 'legend' }, h('span', { class: 'key key-session' }), 'session ', h('span', { class: 'key key-background' }), 'background ', h('span', { class: 'key key-failed' }), 'failed event'));
  return { element: h('section', { class: 'sessions-view', 'data-testid': 'sessions-view' }, filter, status, list), refresh };
}

function userView(user: UserTimeline): HTMLElement {
  const from = Math.min(...user.sessions.map((x) => x.start), ...user.background.map((b) => b.start));
  const to = Math.max(...user.sessions.map((x) => x.end), ...user.background.map((b) => b.end ?? b.start));
  const x = (time: number) => (to === from ? WIDTH / 2 : LEFT_MARGIN + ((time - from) / (to - from)) * (WIDTH - LEFT_MARGIN - 10 - RIGHT_MARGIN));
  const height = user.sessions.length * ROW + 30;
  const svg = s('svg', { viewBox: `0 0 ${WIDTH} ${height}`, class: 'timeline', 'data-testid': 'timeline', role: 'img', 'aria-label': `Sessions of ${user.userId}` },
    ...user.background.map((b) => s('rect', { class: 'background', 'data-testid': 'background-period', x: x(b.start), y: 0, width: Math.max(2, x(b.end ?? to) - x(b.start)), height: height - 20 },
      s('title', {}, `background ${formatTime(b.start)} – ${b.end === null ? 'still' : formatTime(b.end)}`))),
    ...user.sessions.flatMap((session, i) => sessionMarks(session, i, x, user.sessions[i - 1])),
    s('text', { x: LEFT_MARGIN, y: height - 5, class: 'axis' }, formatTime(from)),
    s('text', { x: WIDTH - 10 - RIGHT_MARGIN, y: height - 5, class: 'axis', 'text-anchor': 'end' }, formatTime(to)));
  return h('article', { class: 'user', 'data-testid': 'session-user', 'data-user-id': user.userId },
    h('h3', {}, 'User ', h('span', { class: 'mono' }, user.userId), ` · ${user.sessions.length} sessions`, user.sessionsLeftOut > 0 && ` (${user.sessionsLeftOut} older not shown)`),
    svg,
    sessionTable(user.sessions));
}

/** A session's bar, its events as ticks, its end reason, and the gap since the previous session. */
function sessionMarks(session: SessionSpan, i: number, x: (time: number) => number, previous: SessionSpan | undefined): SVGElement[] {
  const y = i * ROW + 6;
  const marks: SVGElement[] = [];
  if (previous !== undefined && session.start > previous.end) {
    const x1 = x(previous.end);
    const x2 = x(session.start);
    marks.push(s('line', { class: 'gap', 'data-testid': 'session-gap', x1, x2, y1: y + 10, y2: y + 10 }));
    if (x2 - x1 >= GAP_LABEL_MIN) marks.push(s('text', { class: 'gap-label', x: (x1 + x2) / 2, y: y + 6, 'text-anchor': 'middle' }, `gap ${formatDuration(session.start - previous.end)}`));
  }
  marks.push(s('rect', { class: 'session', 'data-testid': 'session-bar', 'data-session-id': session.sessionId, x: x(session.start), y, width: Math.max(4, x(session.end) - x(session.start)), height: 20, rx: 3 },
    s('title', {}, `#${session.sessionIndex ?? '?'} ${session.sessionId}\n${formatTime(session.start)} – ${formatTime(session.end)}`)));
  for (const event of session.events) {
    marks.push(s('line', { class: event.valid ? 'tick' : 'tick tick-failed', 'data-testid': 'event-mark', x1: x(event.time), x2: x(event.time), y1: y + 2, y2: y + 18 },
      s('title', {}, `${event.name} · event ${event.eventIndex ?? '?'} · ${formatTime(event.time)}`)));
  }
  const narrow = x(session.end) - x(session.start) < 30; // a short session's number goes before its bar
  marks.push(s('text', { class: 'session-label', x: x(session.start) + (narrow ? -4 : 4), y: y + 14, 'text-anchor': narrow ? 'end' : 'start' }, `#${session.sessionIndex ?? '?'}`));
  if (session.ended !== null) marks.push(s('text', { class: 'end-reason', 'data-testid': 'end-reason', x: x(session.end) + 6, y: y + 14 }, `ended: ${session.ended.reason}`));
  return marks;
}

function sessionTable(sessions: SessionSpan[]): HTMLElement {
  return h('table', { class: 'sessions', 'data-testid': 'session-table' },
    h('thead', {}, h('tr', {}, ...['#', 'Session', 'Start', 'Last activity', 'Length', 'Events', 'Ended', 'Previous'].map((c) => h('th', {}, c)))),
    h('tbody', {}, ...sessions.map((x) => h('tr', { 'data-testid': 'session-row', 'data-session-id': x.sessionId },
      h('td', {}, String(x.sessionIndex ?? '–')),
      h('td', { class: 'mono' }, x.sessionId),
      h('td', {}, formatTime(x.start)),
      h('td', {}, formatTime(x.end)),
      h('td', {}, formatDuration(x.end - x.start)),
      h('td', {}, String(x.eventCount)),
      h('td', { 'data-testid': 'session-end-reason' }, x.ended?.reason ?? '–'),
      h('td', { class: 'mono' }, x.previousSessionId?.slice(0, 8) ?? '–')))));
}
