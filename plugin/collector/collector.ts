import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IgluValidator, parseIgluUri, type ResolverConfig, type ValidationIssue } from '../iglu/index.js';
import { PAYLOAD_DATA_SCHEMA } from '../schema-uris.js';
import { EventCache, type CacheUsage, type GoodEventFilters } from './event-cache.js';
import { badRequest, processPayload, type RequestInfo } from './events.js';

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
}

export interface RunningCollector {
  /** `http://host:port`, the endpoint to give a tracker. */
  url: string;
  port: number;
  counts(): { total: number; good: number; bad: number };
  /** Events dropped because `maxEvents` or `maxBytes` was reached. */
  dropped(): { good: number; bad: number };
  /** What the event store holds and may hold (also at `GET /health`). */
  usage(): CacheUsage;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const TP2_PATH = '/com.snowplowanalytics.snowplow/tp2';
const PAYLOAD_DATA_PREFIX = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-';
const MAX_FILTER_BYTES = 64 * 1024;
/** Payloads of one batch validated between two turns of the event loop. */
const YIELD_EVERY = 1000;
/** API requests from an origin in `allowOrigins`: only these get CORS headers from the API. */
const ALLOWED_API_ORIGIN = new WeakSet<IncomingMessage>();
/** Headers that carry credentials: stored as `<redacted>` unless `keepSecretHeaders`. */
const SECRET_HEADERS = new Set(['cookie', 'authorization', 'proxy-authorization', 'x-api-key', 'apikey']);
// A 1x1 transparent GIF, what collectors answer to GET /i.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A collector that validates like Snowplow Micro: trackers send to it (`POST /com.snowplowanalytics.snowplow/tp2`,
 * `GET /i`), tests read `/micro/all`, `/micro/good`, `/micro/bad` and `/micro/reset`.
 */
export async function startCollector(options: CollectorOptions = {}): Promise<RunningCollector> {
  const { port, host, schemas, maxBodyBytes, maxEvents, maxBytes, allowOrigins } = checkOptions(options);
  const validator = new IgluValidator({ repositories: schemas, resolverConfig: options.resolverConfig });
  const cache = new EventCache(maxEvents, maxBytes);
  const redact = options.keepSecretHeaders !== true;

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
    switch (url.pathname) {
      case TP2_PATH: {
        allow(req, 'POST');
        const contentType = req.headers['content-type'] ?? '';
        if (!/^application\/json\b/i.test(contentType)) throw new HttpError(415, `content type must be application/json, got ${contentType || 'none'}`);
        const body = await readBody(req, maxBodyBytes);
        await collectBatch(body, requestInfo(req, url, body, redact));
        return send(res, 200, 'ok');
      }
      case '/i': {
        allow(req, 'GET');
        const payload = Object.fromEntries(url.searchParams);
        const request = requestInfo(req, url, null, redact);
        record(await validator.settle(() => processPayload(payload, PAYLOAD_DATA_SCHEMA, request, validator)), request);
        res.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store', ...cors(req) });
        res.end(PIXEL);
        return;
      }
      case '/health':
        allow(req, 'GET');
        return send(res, 200, { status: 'ok', ...cache.usage() });
      case '/micro/all':
        allow(req, 'GET', 'POST');
        return send(res, 200, cache.counts());
      case '/micro/good':
        allow(req, 'GET', 'POST');
        return sendJsonArray(res, cache.good(req.method === 'POST' ? goodFilters(await readJson(req)) : {}));
      case '/micro/bad':
        allow(req, 'GET', 'POST');
        return sendJsonArray(res, cache.bad(req.method === 'POST' ? limitOf(await readJson(req)) : undefined));
      case '/micro/reset':
        allow(req, 'GET', 'POST');
        cache.reset();
        validator.clearCaches();
        return send(res, 200, cache.counts());
      default:
        throw new HttpError(404, `unknown path ${url.pathname}; trackers send to ${TP2_PATH} or /i, tests read /micro/all, /micro/good, /micro/bad, /micro/reset`);
    }
  }

  /** A tp2 body: every payload becomes a good or bad event; a body that holds no payloads becomes one bad event. */
  async function collectBatch(body: string, request: RequestInfo): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return record({ bad: badRequest(request, [issue('/body', 'json', `not valid JSON (${(error as Error).message})`)], validator) });
    }
    const schema = (parsed as { schema?: unknown } | null)?.schema;
    if (typeof schema !== 'string' || !schema.startsWith(PAYLOAD_DATA_PREFIX) || parseIgluUri(schema) === null) {
      return record({ bad: badRequest(request, [issue('/schema', 'iglu', `not self-describing JSON with a payload_data schema (found ${JSON.stringify(schema) ?? 'none'})`)], validator) });
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length === 0) {
      return record({ bad: badRequest(request, validator.validateData(schema, data).errors, validator) });
    }
    // Schemas from HTTP registries are loaded first (settle); without registries this is synchronous work.
    for (let i = 0; i < data.length; i++) {
      record(await validator.settle(() => processPayload(data[i], schema, request, validator)), request);
      // A huge batch (a 1 MiB body of `{}` is 300k payloads) must not hold up other requests meanwhile.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Stores an event as the JSON it is answered with; one that cannot be written as JSON becomes a bad row. */
  function record(result: ReturnType<typeof processPayload>, request?: RequestInfo): void {
    if ('good' in result) {
      const json = stringify(result.good);
      if (typeof json === 'string') return cache.addGood(result.good, json);
      if (request === undefined) return;
      return record({ bad: badRequest(request, [issue('/body', 'depth', `the event cannot be stored: ${json.reason}`)], validator) });
    }
    const json = stringify(result.bad);
    // A bad row holds strings only: it can always be written, unless it is past what a string may hold.
    if (typeof json === 'string') cache.addBad(result.bad, json);
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
    usage: () => cache.usage(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function issue(path: string, keyword: string, message: string): ValidationIssue {
  return { path, keyword, message, schema: null };
}

function allow(req: IncomingMessage, ...methods: string[]): void {
  if (!methods.includes(req.method ?? '')) throw new HttpError(405, `${req.method} is not allowed here; use ${methods.join(' or ')}`);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `body of ${declared} bytes is over the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `body is over the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req, MAX_FILTER_BYTES);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the filter body is not valid JSON');
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

function limitOf(body: unknown): number | undefined {
  const limit = (body as Record<string, unknown> | null)?.limit;
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || (limit as number) < 0) throw new HttpError(400, 'filter limit must be a whole number >= 0');
  return limit as number;
}

function requestInfo(req: IncomingMessage, url: URL, body: string | null, redact: boolean): RequestInfo {
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : null;
  };
  const headers: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    headers.push(`${name}: ${redact && SECRET_HEADERS.has(name.toLowerCase()) ? '<redacted>' : req.rawHeaders[i + 1]}`);
  }
  return {
    timestamp: new Date(),
    ipAddress: req.socket.remoteAddress ?? 'unknown',
    userAgent: header('user-agent'),
    refererUri: header('referer'),
    headers,
    contentType: header('content-type'),
    hostname: header('host') ?? 'unknown',
    path: url.pathname,
    querystring: url.search === '' ? null : url.search.slice(1),
    body,
    networkUserId: /(?:^|;\s*)sp=([^;]+)/.exec(header('cookie') ?? '')?.[1] ?? null,
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const req = res.req;
  if (res.headersSent) return;
  const text = body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    ...cors(req),
    ...headers,
  });
  res.end(text);
}

/** The paths that read or change what the collector holds (`/micro/*`, `/health`), as opposed to the tracking endpoints. */
function isApiPath(pathname: string): boolean {
  return pathname.startsWith('/micro/') || pathname === '/health';
}

/** A request target that is not a URL path is the client's error (400), not the server's. */
function parseTarget(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://collector.invalid');
  } catch {
    throw new HttpError(400, `malformed request target ${JSON.stringify((target ?? '').slice(0, 100))}`);
  }
}

/**
 * The `/micro/*` API holds what trackers sent (headers, user ids): a page from another origin may not read
 * or reset it. Requests without an `Origin` (tests, curl, servers) and from the collector's own origin
 * pass; other origins only when listed in `allowOrigins`.
 */
function refuseForeignOrigin(req: IncomingMessage, allowOrigins: readonly string[]): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (allowOrigins.includes(origin)) {
    ALLOWED_API_ORIGIN.add(req);
    return;
  }
  const own = req.headers.host !== undefined && (origin === `http://${req.headers.host}` || origin === `https://${req.headers.host}`);
  if (!own) throw new HttpError(403, `origin ${origin} may not use the collector's API (allow it with --allow-origin)`);
}

/**
 * CORS headers: the tracking endpoints answer browsers with credentials from any origin, as Snowplow's
 * collector does; the API only names the origin it let through (no wildcard, no credentials for others).
 */
function cors(req: IncomingMessage): Record<string, string> {
  // The raw path, not a parsed URL: this also answers the 400 for a target that does not parse.
  if (isApiPath((req.url ?? '').split('?', 1)[0]!)) {
    if (!ALLOWED_API_ORIGIN.has(req)) return {};
    return { 'Access-Control-Allow-Origin': req.headers.origin!, Vary: 'Origin', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS' };
  }
  return {
    'Access-Control-Allow-Origin': req.headers.origin ?? '*',
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Headers': 'Content-Type, SP-Anonymous',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
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
  return { port, host, schemas, maxBodyBytes, maxEvents, maxBytes, allowOrigins };
}

/** `JSON.stringify`, or why the value cannot be written (nested too deep, or larger than a string may be). */
function stringify(value: unknown): string | { reason: string } {
  try {
    return JSON.stringify(value);
  } catch (error) {
    return { reason: error instanceof RangeError && /call stack/i.test(error.message) ? 'too deep' : `too large (${(error as Error).message})` };
  }
}

/**
 * A JSON array of stored JSON texts, written piece by piece and waiting on the socket when it is full,
 * so the response needs no memory of its own whatever the store holds.
 */
async function sendJsonArray(res: ServerResponse, items: Iterable<string>): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json', ...cors(res.req) });
  let first = true;
  for (const item of items) {
    const ok = res.write(first ? `[${item}` : `,${item}`);
    first = false;
    if (!ok) await new Promise((resolve) => res.once('drain', resolve));
    if (res.destroyed) return;
  }
  res.end(first ? '[]' : ']');
}
