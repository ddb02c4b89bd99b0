import { newTracker, type Tracker } from '@snowplow/node-tracker';
import type { ClientSession } from '../../plugin/index.js';
import type { BadEvent, GoodEvent } from '../../plugin/collector/index.js';

/** A real node-tracker that sends to `endpoint` over HTTP (no customFetch). */
export function httpTracker(endpoint: string, session?: ClientSession, encodeBase64 = true): Tracker {
  const tracker = newTracker({ namespace: 'e2e', appId: 'client-session-e2e', encodeBase64 }, { endpoint, bufferSize: 1 });
  if (session !== undefined) tracker.addPlugin(session);
  return tracker;
}

/** Micro's API, read over HTTP. */
export function micro(url: string) {
  const get = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    all: () => get<{ total: number; good: number; bad: number }>('/micro/all'),
    good: (filters?: Record<string, unknown>) => get<GoodEvent[]>('/micro/good', filters),
    bad: () => get<BadEvent[]>('/micro/bad'),
    reset: () => get<{ total: number }>('/micro/reset'),
  };
}
