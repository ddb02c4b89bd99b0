/**
 * How Snowplow's collector reads a tracking request (snowplow/stream-collector, `Routes.scala`,
 * `Service.scala`): which path is which endpoint (custom `paths` mapped to the standard ones, `/r/…`
 * redirects refused unless enabled), the network user id, and the `sp` cookie it answers with.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ANONYMOUS_USER_ID } from '../session/entity.js';

export const TP2_PATH = '/com.snowplowanalytics.snowplow/tp2';
/** The collector's cookie: `sp`, a year, the whole site, sent cross-site (so Secure), out of scripts' reach. */
const COOKIE = { name: 'sp', maxAgeSeconds: 365 * 24 * 3600 };

/** A tracking endpoint: a POSTed tp2 batch, or one payload in the query string (`/i`, `/ice.png`, GET on tp2). */
export type TrackingRoute = { kind: 'batch'; path: string } | { kind: 'pixel'; path: string } | { kind: 'redirect' } | null;

/** The endpoint `pathname` is (after `paths`, custom path → standard path), or `null` when it is not a tracking path. */
export function trackingRoute(pathname: string, method: string | undefined, paths: Readonly<Record<string, string>>): TrackingRoute {
  const path = Object.hasOwn(paths, pathname) ? paths[pathname]! : pathname;
  if (path.startsWith('/r/')) return { kind: 'redirect' };
  if (path === '/i' || path === '/ice.png') return { kind: 'pixel', path: '/i' };
  if (path === TP2_PATH) return method === 'POST' ? { kind: 'batch', path } : { kind: 'pixel', path };
  return null;
}

/** The network user id the collector gives a request: `SP-Anonymous` → zeros; else `nuid`, the `sp` cookie, or a new one. */
export function networkUserId(req: IncomingMessage, url: URL): string {
  if (isAnonymous(req)) return ANONYMOUS_USER_ID; // the nil UUID, as Snowplow's collector gives an SP-Anonymous request
  return url.searchParams.get('nuid') ?? spCookie(req) ?? randomUUID();
}

export function isAnonymous(req: IncomingMessage): boolean {
  return req.headers['sp-anonymous'] !== undefined;
}

/** The `sp` cookie's value in the request, if it has one (an empty `sp=` is none). */
function spCookie(req: IncomingMessage): string | null {
  return /(?:^|;\s*)sp=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? null;
}

/**
 * The `Set-Cookie` Snowplow's collector answers with (its defaults, which Micro keeps): the network user id
 * for a year; for an `SP-Anonymous` request none, or an expired one when it sent an `sp` cookie.
 */
export function setCookie(req: IncomingMessage, nuid: string, now: number = Date.now()): Record<string, string> {
  const anonymous = isAnonymous(req);
  if (anonymous && spCookie(req) === null) return {};
  const expires = new Date(now + (anonymous ? -1 : 1) * COOKIE.maxAgeSeconds * 1000).toUTCString();
  return { 'Set-Cookie': `${COOKIE.name}=${anonymous ? '' : nuid}; Expires=${expires}; Path=/; SameSite=None; Secure; HttpOnly` };
}
