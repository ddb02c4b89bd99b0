import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { IgluValidator, type ResolverConfig } from '../iglu/index.js';
import { atomicFieldsLimits } from './atomic-fields.js';
import { checkPaths } from './enrich-config.js';
import { EventCache, type CacheUsage } from './event-cache.js';
import { EventIntake } from './event-intake.js';
import { EventPrinter, type OutputFormat } from './event-output.js';
import type { EventQuery } from './event-match.js';
import { QueryError } from './event-query.js';
import { EventWaiters, type BadEventsOptions, type WaitOptions } from './event-waiter.js';
import type { EnrichRules, RequestInfo } from './events.js';
import { HttpError, allow, cors, isApiPath, parseTarget, readBody, refuseForeignOrigin, send } from './http.js';
import { API_PATHS, handleApi } from './micro-api.js';
import { isAnonymous, networkUserId, setCookie, TP2_PATH, trackingRoute } from './tracking-request.js';

export interface CollectorOptions {
  /** Default 9090; `0` picks a free port. */
  port?: number;
  /** Default `127.0.0.1`: only this machine can send. */
  host?: string;
  /** Static Iglu repositories searched before this package's `schemas/`. */
  schemas?: string[];
  /** An Iglu resolver configuration (`loadResolverConfig(file)`): its repositories are searched after the vendored ones. */
  resolverConfig?: ResolverConfig;
  /** Larger request bodies get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Good and bad events kept each; the oldest are dropped beyond it. Default 100 000. */
  maxEvents?: number;
  /** Characters of stored event JSON kept in all (about the memory they take); the oldest go first. Default 256 MiB. */
  maxBytes?: number;
  /** Origins (e.g. `http://localhost:3000`) whose pages may call the `/micro/*` API; others are refused. Default none. */
  allowOrigins?: string[];
  /** Keep `Cookie`, `Authorization` and the like in stored raw events (redacted by default). */
  keepSecretHeaders?: boolean;
  /**
   * Print each good event as it arrives, one line each (Micro's `--output-json` / `--output-tsv`): `json`,
   * the Analytics SDK JSON; `tsv`, the enriched TSV. Bad events' bad rows go to the error stream.
   */
  output?: OutputFormat;
  /** Where `output` goes. Default `process.stdout` and `process.stderr`. */
  outputStreams?: { events: Writable; badRows: Writable };
  /** Enrich's `maxJsonDepth`: deeper `co`/`cx`/`ue_pr`/`ue_px` JSON makes a failed event. Default 40 (Micro's); at most 500. */
  maxJsonDepth?: number;
  /** Overrides of Enrich's atomic-field limits (`validation.atomicFieldsLimits`), e.g. `{ app_id: 50 }`; the other fields keep Enrich's defaults. */
  atomicFieldsLimits?: Record<string, number>;
  /** Enrich's `acceptInvalid`: an event with fields over their limits is good. Default false. */
  acceptInvalid?: boolean;
  /** Custom collector paths, as Snowplow's collector `paths`: `{ '/com.acme/track': '/com.snowplowanalytics.snowplow/tp2' }`. */
  paths?: Record<string, string>;
}

export interface RunningCollector {
  /** `http://host:port`, the endpoint to give a tracker. */
  url: string;
  port: number;
  counts(): { total: number; good: number; bad: number };
  /** Events dropped because `maxEvents` or `maxBytes` was reached. */
  dropped(): { good: number; bad: number };
  /** What the event store holds and may hold, and the waits in flight (also at `GET /health`). */
  usage(): CacheUsage & { waits: number };
  /**
   * Resolves with the matching good events (Analytics SDK JSON, as `/micro/events` answers, in arrival
   * order) once at least `count` (default 1) have arrived, counting those already stored; rejects after
   * `timeout` ms (default 3000) with a `WaitTimeoutError` that lists the closest events and the failed ones.
   */
  waitFor(query: EventQuery, options?: WaitOptions): Promise<Array<Record<string, unknown>>>;
  /** Throws a `BadEventsError` listing the failed events (those matching `query`, since `since`) and their errors, if any. */
  expectNoBadEvents(query?: EventQuery, options?: BadEventsOptions): void;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Headers that carry credentials: stored as `<redacted>` unless `keepSecretHeaders`. */
const SECRET_HEADERS = new Set(['cookie', 'authorization', 'proxy-authorization', 'x-api-key', 'apikey']);
/** What Snowplow's collector leaves out of an `SP-Anonymous` request. */
const ANONYMOUS_DROPPED_HEADERS = new Set(['x-forwarded-for', 'x-real-ip', 'cookie']);
// A 1x1 transparent GIF, what collectors answer to GET /i.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * A collector that validates like Snowplow Micro: trackers send to it (`POST /com.snowplowanalytics.snowplow/tp2`,
 * `GET /i`); tests read Micro's API (`/micro/all`, `/micro/good`, `/micro/bad`, `/micro/reset`,
 * `/micro/events`, …), people its web UI at `/micro/ui` (see `micro-api.ts`).
 */
export async function startCollector(options: CollectorOptions = {}): Promise<RunningCollector> {
  const { port, host, schemas, maxBodyBytes, maxEvents, maxBytes, allowOrigins, rules, paths } = checkOptions(options);
  const validator = new IgluValidator({ repositories: schemas, resolverConfig: options.resolverConfig, maxJsonDepth: options.maxJsonDepth });
  const cache = new EventCache(maxEvents, maxBytes);
  const redact = options.keepSecretHeaders !== true;
  const streams = options.outputStreams ?? { events: process.stdout, badRows: process.stderr };
  const printer = options.output === undefined ? null : new EventPrinter(options.output, streams.events, streams.badRows);
  const waiters = new EventWaiters(cache);
  const intake = new EventIntake({ validator, cache, rules, printer, onGood: () => waiters.arrived() });

  // Node checks request and header timeouts on this interval: 1 s keeps them close to what they say.
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      send(res, status, { error: message }, status === 413 ? { Connection: 'close' } : {});
      if (status === 413) res.on('finish', () => req.destroy());
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseTarget(req.url);
    if (isApiPath(url.pathname)) refuseForeignOrigin(req, allowOrigins);
    if (req.method === 'OPTIONS') return send(res, 204, null);
    const route = isApiPath(url.pathname) ? null : trackingRoute(url.pathname, req.method, paths);
    if (route === null) {
      if (await handleApi(req, res, url, { cache, validator, waiters })) return;
      throw new HttpError(404, `unknown path ${url.pathname}; trackers send to ${TP2_PATH} or /i (or a custom path); the API is ${API_PATHS}`);
    }
    if (route.kind === 'redirect') throw new HttpError(404, 'redirects disabled'); // Snowplow's collector, unless enableDefaultRedirect
    allow(req, ...(route.path === TP2_PATH ? ['POST', 'GET', 'HEAD'] : ['GET', 'HEAD']));
    const nuid = networkUserId(req, url);
    if (route.kind === 'batch') {
      const contentType = req.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(contentType)) throw new HttpError(415, `content type must be application/json, got ${contentType || 'none'}`);
      const body = await readBody(req, maxBodyBytes);
      await intake.batch(body, requestInfo(req, url, { path: route.path, body, nuid }, redact));
      return send(res, 200, 'ok', setCookie(req, nuid));
    }
    await intake.pixel(Object.fromEntries(url.searchParams), requestInfo(req, url, { path: route.path, body: null, nuid }, redact));
    res.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-cache, no-store, must-revalidate', ...cors(req), ...setCookie(req, nuid) });
    res.end(PIXEL);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    port: actualPort,
    counts: () => cache.counts(),
    dropped: () => cache.dropped(),
    usage: () => ({ ...cache.usage(), waits: waiters.size }),
    waitFor: async (query, waitOptions) => inProcess('waitFor', () => waiters.wait(query, waitOptions)),
    expectNoBadEvents: (query, badOptions) => inProcess('expectNoBadEvents', () => waiters.expectNoBadEvents(query, badOptions)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        waiters.close();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A query or option that is wrong, in process: a `TypeError` naming the package and the method. */
function inProcess<T>(method: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof QueryError) throw new TypeError(`snowplow-client-session: ${method}: ${error.message}`);
    throw error;
  }
}

/** The request as Snowplow's collector records it; with `SP-Anonymous`, without the IP address and the headers that identify. */
function requestInfo(req: IncomingMessage, url: URL, { path, body, nuid }: { path: string; body: string | null; nuid: string }, redact: boolean): RequestInfo {
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : null;
  };
  const anonymous = isAnonymous(req);
  const headers: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (anonymous && ANONYMOUS_DROPPED_HEADERS.has(name.toLowerCase())) continue;
    headers.push(`${name}: ${redact && SECRET_HEADERS.has(name.toLowerCase()) ? '<redacted>' : req.rawHeaders[i + 1]}`);
  }
  return {
    timestamp: new Date(),
    ipAddress: anonymous ? 'unknown' : (req.socket.remoteAddress ?? 'unknown'),
    userAgent: header('user-agent'),
    refererUri: header('referer'),
    headers,
    contentType: header('content-type'),
    hostname: header('host') ?? 'unknown',
    path,
    querystring: url.search === '' ? null : url.search.slice(1),
    body,
    networkUserId: nuid,
  };
}

function checkOptions(options: CollectorOptions) {
  const fail = (name: string, allowed: string, value: unknown): never => {
    throw new RangeError(`snowplow-client-session: startCollector option \`${name}\` must be ${allowed}, got ${JSON.stringify(value)}`);
  };
  const port = options.port ?? 9090;
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('port', 'an integer from 0 to 65535', port);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') fail('host', 'a host name or address', host);
  const schemas = options.schemas ?? [];
  if (!Array.isArray(schemas) || !schemas.every((s) => typeof s === 'string')) fail('schemas', 'an array of folder paths', schemas);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) fail('maxBodyBytes', 'a whole number of bytes >= 1', maxBodyBytes);
  const maxEvents = options.maxEvents ?? 100_000;
  if (!Number.isInteger(maxEvents) || maxEvents < 1) fail('maxEvents', 'a whole number >= 1', maxEvents);
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) fail('maxBytes', 'a whole number of bytes >= 1', maxBytes);
  const allowOrigins = options.allowOrigins ?? [];
  if (!Array.isArray(allowOrigins) || !allowOrigins.every((o) => typeof o === 'string' && URL.canParse(o))) {
    fail('allowOrigins', 'an array of origins such as http://localhost:3000', allowOrigins);
  }
  if (options.output !== undefined && options.output !== 'json' && options.output !== 'tsv') fail('output', '"json" or "tsv"', options.output);
  if (options.acceptInvalid !== undefined && typeof options.acceptInvalid !== 'boolean') fail('acceptInvalid', 'true or false', options.acceptInvalid);
  const rules: EnrichRules = { atomicFieldsLimits: atomicFieldsLimits(options.atomicFieldsLimits), acceptInvalid: options.acceptInvalid === true };
  const paths = checkPaths(options.paths ?? {});
  return { port, host, schemas, maxBodyBytes, maxEvents, maxBytes, allowOrigins, rules, paths };
}

