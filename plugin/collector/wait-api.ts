/** `POST /micro/wait`: a bounded long-poll for other processes (a browser test, an app in a container, a shell). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TooManyWaitsError, WaitTimeoutError, type EventWaiters, type WaitOptions } from './event-waiter.js';
import { QueryError } from './event-query.js';
import { HttpError, readJson, send } from './http.js';

const BODY_FIELDS = new Set(['query', 'count', 'timeout', 'since']);

/**
 * `{"query": {...}, "count": n, "timeout": ms, "since": time}` → 200 `{"events": [...]}` once `count`
 * matching good events have arrived, or 408 `{"closest": [...], "bad": [...], "found": n}` when the
 * timeout passes. A client that disconnects ends its wait.
 */
export async function answerWait(req: IncomingMessage, res: ServerResponse, waiters: EventWaiters): Promise<void> {
  const body = await readJson(req);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object: {"query": {...}, "count": 1, "timeout": 3000}');
  const unknown = Object.keys(body).find((key) => !BODY_FIELDS.has(key));
  if (unknown !== undefined) throw new HttpError(400, `unknown field ${JSON.stringify(unknown)}; the body has query, count, timeout and since`);
  const { query = {}, count, timeout, since } = body as Record<string, unknown>;
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  try {
    const events = await waiters.wait(query, { count, timeout, since } as WaitOptions, gone.signal);
    send(res, 200, { events });
  } catch (error) {
    if (error instanceof WaitTimeoutError) return send(res, 408, { closest: error.closest, bad: error.bad, found: error.found });
    if (error instanceof QueryError) throw new HttpError(400, error.message);
    if (error instanceof TooManyWaitsError) throw new HttpError(503, error.message);
    if (gone.signal.aborted) return; // the client went away: nobody to answer
    throw error;
  }
}
