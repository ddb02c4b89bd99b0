/** The HTTP plumbing the collector's routes share: errors as statuses, bodies, JSON answers, CORS and origins. */
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_FILTER_BYTES = 64 * 1024;
/** API requests from an origin in `allowOrigins`: only these get CORS headers from the API. */
const ALLOWED_API_ORIGIN = new WeakSet<IncomingMessage>();

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}


export function allow(req: IncomingMessage, ...methods: string[]): void {
  if (!methods.includes(req.method ?? '')) throw new HttpError(405, `${req.method} is not allowed here; use ${methods.join(' or ')}`);
}

export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
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

/** A small JSON request body (filters, queries); an empty body is `{}`. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req, MAX_FILTER_BYTES);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
}


export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
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
export function isApiPath(pathname: string): boolean {
  return pathname.startsWith('/micro/') || pathname === '/health';
}

/** A request target that is not a URL path is the client's error (400), not the server's. */
export function parseTarget(target: string | undefined): URL {
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
export function refuseForeignOrigin(req: IncomingMessage, allowOrigins: readonly string[]): void {
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
export function cors(req: IncomingMessage): Record<string, string> {
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


/**
 * A JSON array of stored JSON texts, written piece by piece and waiting on the socket when it is full,
 * so the response needs no memory of its own whatever the store holds.
 */
export async function sendJsonArray(res: ServerResponse, items: Iterable<string>): Promise<void> {
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
