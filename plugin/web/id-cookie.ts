import { ANONYMOUS_USER_ID } from '../session/entity.js';
import { MAX_INDEX } from '../session/state.js';
import { USER_ID, UUID } from '../session/stored-session.js';

/**
 * The browser tracker's first-party id cookie `<prefix>id.<hash>`, as a server reads it from a request.
 * Its value is `domainUserId.createTs.visitCount.nowTs.lastVisitTs.sessionId.previousSessionId.firstEventId.firstEventTs.eventIndex`
 * (browser-tracker-core `src/tracker/id_cookie.ts`, since tracker 3.5; 2.5–3.4 wrote the first six fields, older
 * trackers the first five). Fields may be empty (the domain user id is empty under the browser's anonymous tracking).
 */
export interface BrowserIdCookie {
  /** The cookie's name, e.g. `_sp_id.1fff`. */
  name: string;
  /** The browser tracker's `cookieName` option (`_sp_` by default). */
  prefix: string;
  /** 4 hex digits of the hash of the cookie's domain and path. */
  hash: string;
  /** The domain user id (`duid`); `null` under the browser's anonymous tracking. */
  domainUserId: string | null;
  /** When the cookie was first set, ms since epoch. */
  createdAt: number | null;
  /** The visit count: the browser's `sessionIndex`, sent as `vid` (`domain_sessionidx`). */
  sessionIndex: number | null;
  /** When the browser tracker last wrote the cookie (its `nowTs`), ms since epoch. */
  lastActivityAt: number | null;
  /** When the previous visit was, ms since epoch. */
  previousVisitAt: number | null;
  /** The browser's session id, sent as `sid` (`domain_sessionid`). */
  sessionId: string | null;
  previousSessionId: string | null;
  firstEventId: string | null;
  /** The session's first event's time, ms since epoch. */
  firstEventTimestamp: number | null;
  /** Events tracked in the browser's session so far (0 before the first). */
  eventIndex: number;
  /**
   * The tracker's session cookie `<prefix>ses.<hash>` came with it: the browser's session is live. Without
   * it the session has expired, and the browser's next event opens a new one.
   */
  sessionLive: boolean;
}

/** A well-formed value is about 220 characters; anything much longer is not one. Ids: `UUID`, and `USER_ID` for the domain user id (early 2.x trackers wrote 16 hex). */
const MAX_ID_COOKIE_LENGTH = 512;
/** `<prefix>id.<hash>`: any prefix, the 4 lowercase hex digits the tracker takes from a SHA-1. */
const ID_COOKIE_NAME = /^(.*)id\.([0-9a-f]{4})$/s;
/** Seconds and milliseconds since epoch as written: at most 10 and 13 digits (until the year 2286). */
const SECONDS = /^\d{1,10}$/;
const MILLISECONDS = /^\d{1,13}$/;
const COUNT = /^\d{1,10}$/;

/** The name's prefix and hash when it is an id cookie's name. */
export function idCookieName(name: string): { prefix: string; hash: string } | null {
  const match = ID_COOKIE_NAME.exec(name);
  return match === null ? null : { prefix: match[1]!, hash: match[2]! };
}

/** True for a lowercase UUID other than the nil one (which stands for "anonymous", never for a visitor). */
export function isVisitorUuid(value: string): boolean {
  return UUID.test(value) && value !== ANONYMOUS_USER_ID;
}

type IdFields = Omit<BrowserIdCookie, 'name' | 'prefix' | 'hash' | 'sessionLive'>;

/**
 * The fields of an id cookie's value, or `null` when it is not one the browser tracker wrote: too long,
 * too few or too many fields, or any non-empty field that is malformed. Empty fields (and the tracker's
 * literal `undefined`) are absent values. Never throws.
 */
export function parseIdCookieValue(value: string): IdFields | null {
  if (typeof value !== 'string' || value.length > MAX_ID_COOKIE_LENGTH) return null;
  const fields = value.split('.').map((field) => (field === 'undefined' ? '' : field));
  if (fields.length < 5 || fields.length > 10) return null;
  const [domainUserId = '', createTs = '', visitCount = '', nowTs = '', lastVisitTs = '', sessionId = '', previousSessionId = '', firstEventId = '', firstEventTs = '', eventIndex = ''] = fields;
  const ids = [sessionId, previousSessionId, firstEventId];
  if (!optional(domainUserId, USER_ID) || domainUserId === ANONYMOUS_USER_ID || !ids.every((id) => optional(id, UUID))) return null;
  if (![createTs, nowTs, lastVisitTs].every((ts) => optional(ts, SECONDS)) || !optional(firstEventTs, MILLISECONDS)) return null;
  if (!optional(visitCount, COUNT) || !optional(eventIndex, COUNT)) return null;
  const sessionIndex = integerOrNull(visitCount);
  const events = integerOrNull(eventIndex) ?? 0;
  if ((sessionIndex ?? 0) > MAX_INDEX || events > MAX_INDEX) return null;
  return {
    domainUserId: domainUserId || null,
    createdAt: secondsToMs(createTs),
    sessionIndex,
    lastActivityAt: secondsToMs(nowTs),
    previousVisitAt: secondsToMs(lastVisitTs),
    sessionId: sessionId || null,
    previousSessionId: previousSessionId || null,
    firstEventId: firstEventId || null,
    firstEventTimestamp: integerOrNull(firstEventTs),
    eventIndex: events,
  };
}

function optional(field: string, pattern: RegExp): boolean {
  return field === '' || pattern.test(field);
}

function integerOrNull(field: string): number | null {
  return field === '' ? null : Number(field);
}

function secondsToMs(field: string): number | null {
  return field === '' ? null : Number(field) * 1000;
}
