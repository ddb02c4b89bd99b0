import { parse as parseCookies } from 'cookie';
import { idCookieName, isVisitorUuid, parseIdCookieValue, type BrowserIdCookie } from './id-cookie.js';

/** What a request's cookies say about the visitor's browser tracker and collector. */
export interface BrowserIdentity {
  /** The id cookie that speaks for the visitor: of those that parse, a live session first, then the most recently written. */
  idCookie: BrowserIdCookie | null;
  /** Every well-formed id cookie on the request (several trackers, or several cookie domains), in that order. */
  idCookies: BrowserIdCookie[];
  /** Names of cookies that look like id cookies (or `sp`) but hold no value a tracker or collector writes. */
  rejected: string[];
  /** The collector's network user id (the `sp` cookie of a first-party collector), or `null`. */
  networkUserId: string | null;
}

export interface BrowserCookieOptions {
  /** Only id cookies of this prefix (the browser tracker's `cookieName` option, e.g. `_sp_`). Default: any prefix. */
  idCookiePrefix?: string;
  /** The collector's cookie holding the network user id; `false` reads none. Default `sp`. */
  networkUserIdCookie?: string | false;
}

/** A hostile header may carry thousands of look-alike names: at most this many are parsed. */
const MAX_ID_COOKIES = 16;

/**
 * The browser tracker's id cookies (`<prefix>id.<hash>`, with their session cookies `<prefix>ses.<hash>`) and
 * the collector's `sp` cookie, read from a `Cookie` header. Malformed or hostile values are left out (their
 * names listed in `rejected`); this never throws.
 */
export function readBrowserIdentity(cookieHeader: string | null | undefined, options: BrowserCookieOptions = {}): BrowserIdentity {
  if (typeof cookieHeader !== 'string' || cookieHeader === '') return { idCookie: null, idCookies: [], rejected: [], networkUserId: null };
  const cookies = parseCookies(cookieHeader);
  const idCookies: BrowserIdCookie[] = [];
  const rejected: string[] = [];
  let candidates = 0;
  for (const name in cookies) {
    const parts = idCookieName(name);
    if (parts === null || (options.idCookiePrefix !== undefined && parts.prefix !== options.idCookiePrefix)) continue;
    if (++candidates > MAX_ID_COOKIES) break;
    const fields = parseIdCookieValue(cookies[name] ?? '');
    if (fields === null) rejected.push(name);
    else idCookies.push({ name, ...parts, ...fields, sessionLive: cookies[`${parts.prefix}ses.${parts.hash}`] !== undefined });
  }
  idCookies.sort(speaksFirst);
  return { idCookie: idCookies[0] ?? null, idCookies, rejected, networkUserId: networkUserIdOf(cookies, options.networkUserIdCookie ?? 'sp', rejected) };
}

/** A live session first (the visitor's current tab), then the most recently written cookie, then by name. */
function speaksFirst(a: BrowserIdCookie, b: BrowserIdCookie): number {
  if (a.sessionLive !== b.sessionLive) return a.sessionLive ? -1 : 1;
  const recency = (b.lastActivityAt ?? -1) - (a.lastActivityAt ?? -1);
  return recency !== 0 ? recency : a.name < b.name ? -1 : 1;
}

/** The collector writes a UUID; the nil UUID is what it records for anonymous requests, never a visitor. */
function networkUserIdOf(cookies: Record<string, string | undefined>, name: string | false, rejected: string[]): string | null {
  if (name === false) return null;
  const value = cookies[name];
  if (value === undefined) return null;
  if (isVisitorUuid(value)) return value;
  rejected.push(name);
  return null;
}
