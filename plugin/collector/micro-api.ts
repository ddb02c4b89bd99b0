/** The collector's API: Micro's `/micro/*` endpoints, this package's `/micro/sessions`, `/health` and the UI. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IgluValidator } from '../iglu/index.js';
import { ENRICHED_FIELDS, fullAnalyticsJson } from './enriched-event.js';
import type { BadEventFilters, EventCache, GoodEventFilters } from './event-cache.js';
import { columnsOf, columnStats, parseColumnStats } from './column-stats.js';
import { parseEventsQuery, parseTimeline, QueryError, runEventsQuery, runTimeline } from './event-query.js';
import { lookUpSchema } from './schema-lookup.js';
import { HttpError, allow, readJson, send, sendJsonArray } from './http.js';
import { sessionTimelines } from './session-timeline.js';
import { serveUi } from './ui-assets.js';
import type { EventWaiters } from './event-waiter.js';
import { answerWait } from './wait-api.js';

const SELF_DESCRIBING = new Set(['contexts', 'derived_contexts', 'unstruct_event']);
/** The atomic columns of `/micro/columns`, in the enriched event's order. */
const ATOMIC_COLUMNS = ENRICHED_FIELDS.filter((field) => !SELF_DESCRIBING.has(field));

export interface ApiContext {
  cache: EventCache;
  validator: IgluValidator;
  waiters: EventWaiters;
}

export const API_PATHS = '/micro/all, /micro/good, /micro/bad, /micro/reset, /micro/events, /micro/columns, /micro/columnStats, /micro/timeline, /micro/wait, /micro/iglu, /micro/sessions, /micro/ui';

/** Answers an API request; `false` when the path is not one of the API's. */
export async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, { cache, validator, waiters }: ApiContext): Promise<boolean> {
  const path = url.pathname;
  if (path === '/micro/ui' || path.startsWith('/micro/ui/')) {
    allow(req, 'GET', 'HEAD');
    await serveUi(res, path.slice('/micro/ui'.length));
    return true;
  }
  if (path.startsWith('/micro/iglu/')) {
    allow(req, 'GET');
    const { status, body } = await lookUpSchema(validator.resolver, path.slice('/micro/iglu/'.length));
    send(res, status, body);
    return true;
  }
  switch (path) {
    case '/health':
      allow(req, 'GET');
      send(res, 200, { status: 'ok', ...cache.usage(), waits: waiters.size });
      return true;
    case '/micro/all':
      allow(req, 'GET', 'POST');
      send(res, 200, cache.counts());
      return true;
    case '/micro/good':
      allow(req, 'GET', 'POST');
      await sendJsonArray(res, cache.good(req.method === 'POST' ? goodFilters(await readJson(req)) : {}));
      return true;
    case '/micro/bad':
      allow(req, 'GET', 'POST');
      await sendJsonArray(res, cache.bad(req.method === 'POST' ? badFilters(await readJson(req)) : {}));
      return true;
    case '/micro/reset':
      allow(req, 'GET', 'POST');
      cache.reset();
      validator.clearCaches();
      send(res, 200, cache.counts());
      return true;
    case '/micro/events':
      allow(req, 'GET', 'POST');
      await answerEvents(req, res, cache);
      return true;
    case '/micro/columns':
      allow(req, 'GET');
      send(res, 200, [...ATOMIC_COLUMNS, ...columnsOf(cache.events(), cache.shreddedColumns())]);
      return true;
    case '/micro/columnStats':
      allow(req, 'POST');
      send(res, 200, columnStats(cache.events(), asQuery(parseColumnStats, await readJson(req))));
      return true;
    case '/micro/timeline':
      allow(req, 'POST');
      send(res, 200, runTimeline(cache.events(), asQuery(parseTimeline, await readJson(req))));
      return true;
    case '/micro/wait':
      allow(req, 'POST');
      await answerWait(req, res, waiters);
      return true;
    case '/micro/sessions':
      allow(req, 'GET');
      send(res, 200, sessionTimelines(cache.events(), url.searchParams.get('user') ?? ''));
      return true;
    default:
      return false;
  }
}

/** `GET` (Micro 3): every stored event's Analytics SDK JSON, newest first; `POST` (Micro 4): one page of a query. */
async function answerEvents(req: IncomingMessage, res: ServerResponse, cache: EventCache): Promise<void> {
  if (req.method === 'GET') {
    await sendJsonArray(res, (function* () {
      for (const event of cache.events()) yield JSON.stringify(fullAnalyticsJson(event.row));
    })());
    return;
  }
  const query = asQuery(parseEventsQuery, await readJson(req));
  const page = runEventsQuery(cache.events(query.validEvents), query);
  send(res, 200, { events: page.events.map((event) => fullAnalyticsJson(event.row)), totalPages: page.totalPages, totalItems: page.totalItems });
}

function asQuery<T>(parse: (body: unknown) => T, body: unknown): T {
  try {
    return parse(body);
  } catch (error) {
    if (error instanceof QueryError) throw new HttpError(400, error.message);
    throw error;
  }
}

function goodFilters(body: unknown): GoodEventFilters {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'filters must be a JSON object');
  const { event_type, schema, contexts } = body as Record<string, unknown>;
  if (event_type !== undefined && typeof event_type !== 'string') throw new HttpError(400, 'filter event_type must be a string');
  if (schema !== undefined && typeof schema !== 'string') throw new HttpError(400, 'filter schema must be a string');
  if (contexts !== undefined && !(Array.isArray(contexts) && contexts.every((c) => typeof c === 'string'))) {
    throw new HttpError(400, 'filter contexts must be an array of schema URIs');
  }
  return { event_type, schema, contexts, limit: limitOf(body) } as GoodEventFilters;
}

function badFilters(body: unknown): BadEventFilters {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'filters must be a JSON object');
  const { vendor, version } = body as Record<string, unknown>;
  if (vendor !== undefined && typeof vendor !== 'string') throw new HttpError(400, 'filter vendor must be a string such as com.snowplowanalytics.snowplow');
  if (version !== undefined && typeof version !== 'string') throw new HttpError(400, 'filter version must be a string such as tp2');
  return { vendor, version, limit: limitOf(body) } as BadEventFilters;
}

function limitOf(body: unknown): number | undefined {
  const limit = (body as Record<string, unknown> | null)?.limit;
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || (limit as number) < 0) throw new HttpError(400, 'filter limit must be a whole number >= 0');
  return limit as number;
}

