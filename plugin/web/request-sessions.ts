import type { SessionLogger } from '../session/options.js';
import type { RequestScope, Scope } from '../session/request-scope.js';
import { readBrowserIdentity, type BrowserCookieOptions } from './browser-identity.js';
import { browserIdsOf, visitorOf, visitorUserId } from './visitor.js';
import { checkOptionNames } from '../util/closest-name.js';

/** The signed-in user of a request, as the app knows it; `undefined`, `null` or `''`: none. */
export type KeyOf<Req> = (req: Req) => string | undefined | null;

/** What every request adapter (`middleware`, `fastify`, `koa`, `withSession`) takes. */
export interface RequestOptions extends BrowserCookieOptions {
  /** Event indexes leased per request with a shared store (`load(key, reserve)`). Default 8. */
  reserve?: number;
  /**
   * Events tracked for the request carry the browser's ids in the atomic fields: `duid`, `nuid`, and `sid`/`vid`
   * while the browser's session is live. Default true.
   */
  joinBrowserSession?: boolean;
}

export interface AdapterOptions<Req> extends RequestOptions {
  /** The signed-in user (sent as `uid`); without one the visitor is keyed by its browser's ids. */
  keyOf?: KeyOf<Req>;
}

export interface ResolvedRequestOptions<Req> {
  keyOf: KeyOf<Req> | undefined;
  reserve: number | undefined;
  joinBrowserSession: boolean;
  cookies: BrowserCookieOptions;
}

/** What the request adapters need of the `ClientSession`. */
export interface RequestHost {
  readonly scope: RequestScope;
  readonly logger: SessionLogger;
  /** A store shared by several processes: each key is loaded before its request runs. */
  readonly shared: boolean;
  /** Makes the key's slot if it is new: with `userId` when given, and anonymous when `anonymous`. */
  prepareKey(key: string, userId: string | undefined, anonymous: boolean): void;
  load(key: string, reserve?: number): Promise<void>;
}

const OPTION_NAMES = ['keyOf', 'reserve', 'joinBrowserSession', 'idCookiePrefix', 'networkUserIdCookie'] as const;

/**
 * The request side of a `ClientSession`: who a request is for (signed-in user, else the browser's ids from its
 * cookies), that key's session loaded, and the scope its code runs in. The framework adapters are thin
 * wrappers around `prepare` and `run`.
 */
export class RequestSessions {
  #warnedUnkeyed = false;

  constructor(private readonly host: RequestHost) {}

  /** Checks an adapter's options (once, when the adapter is made): a mistake is an error naming the option. */
  static resolve<Req>(options: AdapterOptions<Req> | undefined, method: string): ResolvedRequestOptions<Req> {
    const prefix = `snowplow-client-session: ${method} option`;
    if (options === undefined || options === null) options = {};
    if (typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`snowplow-client-session: ${method} expects an options object, got ${Array.isArray(options) ? 'array' : typeof options}`);
    checkOptionNames(options, OPTION_NAMES, prefix);
    const { keyOf, reserve, joinBrowserSession = true, idCookiePrefix, networkUserIdCookie } = options;
    if (keyOf !== undefined && typeof keyOf !== 'function') throw new TypeError(`${prefix} \`keyOf\` must be a function of the request, got ${typeof keyOf}`);
    if (reserve !== undefined && (!Number.isInteger(reserve) || reserve < 1)) throw new RangeError(`${prefix} \`reserve\` must be a whole number >= 1, got ${String(reserve)}`);
    if (typeof joinBrowserSession !== 'boolean') throw new TypeError(`${prefix} \`joinBrowserSession\` must be true or false, got ${typeof joinBrowserSession}`);
    if (idCookiePrefix !== undefined && typeof idCookiePrefix !== 'string') throw new TypeError(`${prefix} \`idCookiePrefix\` must be a string (the browser tracker's cookieName, e.g. '_sp_'), got ${typeof idCookiePrefix}`);
    if (networkUserIdCookie !== undefined && networkUserIdCookie !== false && (typeof networkUserIdCookie !== 'string' || networkUserIdCookie === '')) {
      throw new TypeError(`${prefix} \`networkUserIdCookie\` must be a cookie name or false, got ${JSON.stringify(networkUserIdCookie) ?? typeof networkUserIdCookie}`);
    }
    return { keyOf, reserve, joinBrowserSession, cookies: { idCookiePrefix, networkUserIdCookie } };
  }

  /**
   * The request's scope: its visitor, and the key's session loaded when the store is shared (a promise then;
   * otherwise the scope at once, so a request on a memory or file store pays no extra turn). Never throws.
   */
  prepare<Req>(req: Req, cookieHeader: string | undefined, options: ResolvedRequestOptions<Req>): Scope | Promise<Scope> {
    const visitor = visitorOf(this.#userOf(req, options.keyOf), readBrowserIdentity(cookieHeader, options.cookies));
    const scope: Scope = { key: visitor.key, uid: visitor.user, browserIds: options.joinBrowserSession ? browserIdsOf(visitor) : null, visitor };
    if (visitor.key === undefined) {
      this.#warnUnkeyed();
      return scope;
    }
    this.host.prepareKey(visitor.key, visitorUserId(visitor), visitor.keySource === 'browserSession');
    if (!this.host.shared) return scope;
    // load() never rejects (a store that does not answer lets the session go on locally); this is a backstop.
    return this.host.load(visitor.key, options.reserve).then(
      () => scope,
      (error: unknown) => (this.logError('cannot load the request\'s session; it goes on locally', error), scope),
    );
  }

  /** Logs a failure of the request path; the request goes on. */
  logError(what: string, error: unknown): void {
    this.host.logger.error(`snowplow-client-session: ${what}`, error);
  }

  /** Runs `fn` in the request's scope: every event it tracks, across any `await`s, is the visitor's. */
  run<T>(scope: Scope, fn: () => T): T {
    return this.host.scope.run(scope, fn);
  }

  #userOf<Req>(req: Req, keyOf: KeyOf<Req> | undefined): string | null {
    if (keyOf === undefined) return null;
    try {
      const user = keyOf(req);
      return typeof user === 'string' && user !== '' ? user : null;
    } catch (error) {
      this.logError('the keyOf function threw; the request is taken as having no signed-in user', error);
      return null;
    }
  }

  #warnUnkeyed(): void {
    if (this.#warnedUnkeyed) return;
    this.#warnedUnkeyed = true;
    this.host.logger.warn(
      'snowplow-client-session: a request has no signed-in user (keyOf), no browser tracker id cookie (_sp_id.*) and no collector cookie (sp): ' +
        'its events carry no uid and go to the default session, which every such request shares. Return a key from keyOf to tell them apart. (Warned once.)',
    );
  }
}

/** A request's `Cookie` header, from Node's headers (`req.headers`) or the Fetch API's `Headers`. */
export function cookieHeaderOf(headers: unknown): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get('cookie') ?? undefined;
  const value = (headers as { cookie?: unknown }).cookie;
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? value.filter((v) => typeof v === 'string').join('; ') : undefined;
}
