/** The collector's API as the UI calls it (same origin). */
import type { SessionsReport } from '../session-timeline.js';

export type Row = Record<string, unknown>;

export interface EventsPage {
  events: Row[];
  totalPages: number;
  totalItems: number;
}

export interface EventsRequest {
  page: number;
  pageSize: number;
  /** This collector's filters: any of `values` found (`contains`) in any of `columns`. */
  filters: Array<{ columns: string[]; values: string[]; match: 'contains' }>;
  validEvents: boolean | null;
  sorting: { column: string; desc: boolean } | null;
}

async function call<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const answer = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
  return answer;
}

export const api = {
  counts: () => call<{ total: number; good: number; bad: number }>('/micro/all'),
  events: (request: EventsRequest) => call<EventsPage>('/micro/events', request),
  columns: () => call<string[]>('/micro/columns'),
  sessions: (user: string) => call<SessionsReport>(`/micro/sessions?user=${encodeURIComponent(user)}`),
};
