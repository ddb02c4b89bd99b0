import type { AtomicIds } from '../session/atomic-ids.js';
import type { BrowserIdentity } from './browser-identity.js';

/** What a request's session key came from, in the order they are tried. */
export type KeySource = 'user' | 'domainUserId' | 'browserSession' | 'networkUserId' | 'none';

/** Who a request is for, as the request adapters decide it (`session.visitor()` inside the request). */
export interface Visitor {
  /** The key the request's events are sessionized under; `undefined`: none was found (the default session). */
  key: string | undefined;
  keySource: KeySource;
  /** The signed-in user (`keyOf`), sent as `uid`; `null` for anonymous visitors (no `uid` is sent). */
  user: string | null;
  /** The browser tracks anonymously: its id cookie has no domain user id. */
  browserAnonymous: boolean;
  /** What the request's cookies say. */
  browser: BrowserIdentity;
}

/** Key prefixes of visitors without a signed-in user, so they never collide with each other. */
const KEY_PREFIX = { domainUserId: 'duid:', browserSession: 'sid:', networkUserId: 'nuid:' } as const;

/**
 * The request's key: the signed-in user, else the browser's domain user id, else (the browser tracks
 * anonymously) its session id, so the visitor is told apart for one visit and never across visits, else the
 * collector's network user id, else none.
 */
export function visitorOf(user: string | null, browser: BrowserIdentity): Visitor {
  const cookie = browser.idCookie;
  const browserAnonymous = cookie !== null && cookie.domainUserId === null;
  const visitor = (key: string | undefined, keySource: KeySource): Visitor => ({ key, keySource, user, browserAnonymous, browser });
  if (user !== null) return visitor(user, 'user');
  if (cookie?.domainUserId) return visitor(KEY_PREFIX.domainUserId + cookie.domainUserId, 'domainUserId');
  if (browserAnonymous && cookie.sessionId !== null) return visitor(KEY_PREFIX.browserSession + cookie.sessionId, 'browserSession');
  if (browser.networkUserId !== null && !browserAnonymous) return visitor(KEY_PREFIX.networkUserId + browser.networkUserId, 'networkUserId');
  return visitor(undefined, 'none');
}

/**
 * The `userId` of a visitor's server session when the key is new: the browser's own user id (its
 * `client_session` userId, already on every event as `domain_userid`) or the network user id; `undefined`
 * (a random one) for a signed-in user, whose key may be an e-mail address that must not be recoverable.
 */
export function visitorUserId(visitor: Visitor): string | undefined {
  if (visitor.keySource === 'domainUserId') return visitor.browser.idCookie!.domainUserId!;
  if (visitor.keySource === 'networkUserId') return visitor.browser.networkUserId!;
  return undefined;
}

/**
 * The browser's ids for the atomic fields of the request's events: `duid`, `nuid`, and `sid`/`vid` while
 * the browser's session is live (after it expired, the browser's next event opens a session whose id
 * cannot be known yet; a server event must not stretch the ended one). Nothing identifying when the
 * browser tracks anonymously.
 */
export function browserIdsOf(visitor: Visitor): AtomicIds | null {
  const cookie = visitor.browser.idCookie;
  const live = cookie !== null && cookie.sessionLive && cookie.sessionId !== null;
  const ids: AtomicIds = {
    duid: cookie?.domainUserId ?? null,
    nuid: visitor.browserAnonymous ? null : visitor.browser.networkUserId,
    sid: live ? cookie.sessionId : null,
    vid: live ? cookie.sessionIndex : null,
  };
  return ids.duid === null && ids.nuid === null && ids.sid === null ? null : ids;
}
