import { logFailure } from './util/describe-error.js';
import { LOG, type CorePlugin, type CorePluginConfiguration } from '@snowplow/tracker-core';
import { v4 as uuidv4 } from 'uuid';
import type { ClientSessionEntity } from './session/entity.js';
import { EventSessionizer, type WriteMode } from './session/event-sessionizer.js';
import { IndexReservations } from './session/index-reservations.js';
import { optionWarnings, resolveOptions, resolveTimeouts, type ClientSessionOptions, type ResolvedOptions, type SessionLogger, type SessionTimeouts } from './session/options.js';
import { RequestScope } from './session/request-scope.js';
import { SessionChecker } from './session/session-checker.js';
import { safeCall, SessionLifecycle } from './session/session-lifecycle.js';
import { SessionWriter } from './session/session-writer.js';
import { SharedLeases, type LeaseOutcome } from './session/shared-leases.js';
import { SessionSlots, type Slot } from './session/slots.js';
import { SyncSessions } from './session/sync-sessions.js';
import { endSession, type SessionState } from './session/state.js';
import { readStartupSessions } from './session/startup.js';
import { DEFAULT_STORE_FILE, LowdbSessionStore } from './stores/lowdb-session-store.js';
import { isSyncStore, type SessionStore, type SyncSessionStore } from './stores/session-store.js';
import { connectMiddleware, fastifyPlugin, koaMiddleware, withRequestSession, type ConnectMiddleware, type FastifyRequestLike, type FastifySessionPlugin, type KoaContextLike, type KoaSessionMiddleware, type NodeRequestLike, type RequestWithHeaders } from './web/framework-adapters.js';
import { RequestSessions, type AdapterOptions, type KeyOf, type RequestOptions } from './web/request-sessions.js';
import type { Visitor } from './web/visitor.js';

/** A client session for one tracker: register it with `tracker.addPlugin(session)`. */
export interface ClientSession extends CorePluginConfiguration {
  /** The tracker-core plugin (also for `trackerCore({ corePlugins: [session.plugin] })`). */
  readonly plugin: CorePlugin;
  /**
   * Calls `fn` and returns its result; every event tracked inside that async context (across any number
   * of `await`s) is sessionized under `key`, and carries `uid` = `key` (or `options.uid`; `null` sends no
   * `uid`), whatever other requests do meanwhile. Runs nest: the innermost key wins.
   */
  run<T>(key: string, fn: () => T, options?: { uid?: string | null }): T;
  /**
   * Connect/Express middleware: the rest of the request runs in the visitor's scope, keyed by the signed-in
   * user (`keyOf(req)`), else by the browser's ids from its cookies; its events carry the browser's ids
   * (joined sessions). With a shared store the key is loaded first.
   */
  middleware<Req extends NodeRequestLike = NodeRequestLike>(keyOf?: KeyOf<Req> | null, options?: RequestOptions): ConnectMiddleware<Req>;
  /** A Fastify plugin with the same keying: `app.register(session.fastify())`, after authentication hooks, before the routes. */
  fastify<Req extends FastifyRequestLike = FastifyRequestLike>(options?: AdapterOptions<Req>): FastifySessionPlugin;
  /** A Koa middleware with the same keying: `app.use(session.koa())`, after authentication. `keyOf` gets the context. */
  koa<Ctx extends KoaContextLike = KoaContextLike>(options?: AdapterOptions<Ctx>): KoaSessionMiddleware<Ctx>;
  /**
   * Runs `fn` in the request's scope (same keying) and returns its result: Next.js route handlers (a Fetch API
   * `Request`), or any framework.
   */
  withSession<T, Req extends RequestWithHeaders = RequestWithHeaders>(request: Req, fn: (visitor: Visitor) => T, options?: AdapterOptions<Req>): Promise<Awaited<T>>;
  /** Inside a request adapter's scope: who the request is for (key, user, the browser's ids); else `null`. */
  visitor(): Visitor | null;
  /** Switches between the foreground and background timeout (of the default session, or of `key`'s). */
  setBackground(isBackground: boolean, key?: string): void;
  isBackground(key?: string): boolean;
  /** The `client_session` data attached to the last event (of the default session, or of `key`'s), or `null`. */
  getSessionContext(key?: string): ClientSessionEntity | null;
  /** The next event (of the default session, or of `key`'s) opens a new session; with a shared store, at the next `load(key)`. */
  startNewSession(key?: string): void;
  /** Anonymous tracking on or off (of the default session, or of `key`'s); a switch opens a new session (reason `anonymous`). */
  setAnonymous(anonymous: boolean, key?: string): void;
  isAnonymous(key?: string): boolean;
  /** A new `userId`, and the next event opens session 1 (the browser tracker's `clearUserData()`); the current session ends (reason `reset`). */
  reset(key?: string): void;
  /** Changes timeouts (seconds) at runtime, checked as the options are; the others keep their values. */
  setTimeouts(timeouts: Partial<SessionTimeouts>): void;
  getTimeouts(): SessionTimeouts;
  /** Stops time from ending sessions (events keep the current session; the checker ends nothing) until `resume()`. */
  suspend(): void;
  /** Session checking again; idle time counts from now. */
  resume(): void;
  isSuspended(): boolean;
  /**
   * With a store shared by several processes (RedisSessionStore): reads `key`'s session atomically from the
   * store (rotating it if it timed out) and reserves `reserve` event indexes for this process. Call it
   * before tracking for that key (`middleware` does). Never rejects and resolves within `loadTimeout`: if the
   * store does not answer, the session goes on locally (one warning per outage). With SqliteSessionStore it
   * reserves the request's `reserve` indexes (up to its `indexBlock`) at the next event-loop turn, in one
   * transaction with the other keys loaded meanwhile. A no-op with single-process stores.
   */
  load(key?: string, reserve?: number): Promise<void>;
  /** Writes the sessions to the store now; rejects with the store's error if that fails. */
  flush(): Promise<void>;
  /** Stops the checker, flushes, then releases the store. */
  close(): Promise<void>;
}

/** Event indexes leased per `load()` by default. */
const DEFAULT_LEASE = 8;
const MAX_DATE_MS = 8.64e15;

export async function createClientSession(options: ClientSessionOptions = {}): Promise<ClientSession> {
  const config = resolveOptions(options);
  const logger: SessionLogger = options.logger ?? LOG;
  for (const warning of optionWarnings(options)) logger.warn(warning);
  const store: SessionStore = options.store ?? new LowdbSessionStore({ file: DEFAULT_STORE_FILE });
  const slots = new SessionSlots(uuidv4, config.anonymous);
  const reservations = new IndexReservations(store, logger);
  for (const [key, stored] of await readStartupSessions(store, config, logger, options.sessionKey !== undefined)) {
    // Not continuing across restarts (the mobile trackers' default): the stored session has ended, and the
    // next event opens a new one linked to it.
    const state = !config.continueSessionOnRestart && stored.state !== null && stored.state.ended !== true ? endSession(stored.state) : stored.state;
    slots.add(key, { ...stored, state });
    reservations.seed(key, stored.state);
  }
  return new SessionController(config, options, logger, store, slots, reservations);
}

/** The `ClientSession`: assembles the slots, reservations, leases, lifecycle, writer, checker and request scope. */
class SessionController implements ClientSession {
  readonly plugin: CorePlugin;
  readonly #config: ResolvedOptions;
  readonly #logger: SessionLogger;
  readonly #store: SessionStore;
  readonly #slots: SessionSlots;
  readonly #scope = new RequestScope();
  readonly #writer: SessionWriter;
  readonly #checker: SessionChecker;
  readonly #leases: SharedLeases | null;
  /** With a synchronous shared store (SQLite): decides every event and call in the store. */
  readonly #sync: SyncSessions | null;
  readonly #sessionizer: EventSessionizer;
  readonly #lifecycle: SessionLifecycle;
  readonly #reservations: IndexReservations;
  readonly #requests: RequestSessions;
  /** When this process started (its clock): sessions idle since before it end when they do not continue across restarts. */
  readonly #startedAt: number;
  #closed = false;

  constructor(config: ResolvedOptions, options: ClientSessionOptions, logger: SessionLogger, store: SessionStore, slots: SessionSlots, reservations: IndexReservations) {
    this.#config = config;
    this.#logger = logger;
    this.#store = store;
    this.#slots = slots;
    this.#reservations = reservations;
    this.#startedAt = this.#clock();
    this.#writer = storeWriter(store, options, logger, config.writeInterval);
    const commit = (slot: Slot, state: SessionState, write: WriteMode = 'paced') => this.#commit(slot, state, write);
    const lifecycle = new SessionLifecycle(options, config.sessionEvents, store.storageMechanism, logger, commit);
    this.#lifecycle = lifecycle;
    const clock = () => this.#clock();
    this.#leases =
      store.lease === undefined
        ? null
        : new SharedLeases(store as SessionStore & Required<Pick<SessionStore, 'lease'>>, {
            timeout: config.loadTimeout,
            logger,
            clock,
            injectedClock: config.injectedClock,
            apply: (key, outcome) => this.#applyLease(key, outcome),
          });
    const { policy, atomicSessionFields, retention } = config;
    this.#sync = isSyncStore(store) ? this.#syncSessions(store, options, lifecycle) : null;
    this.#sessionizer = new EventSessionizer({
      slots,
      reservations,
      leases: this.#leases,
      sync: this.#sync,
      lifecycle,
      scope: this.#scope,
      policy,
      atomicSessionFields,
      retention,
      logger,
      clock,
      commit,
      storageMechanism: store.storageMechanism,
      sessionKey: options.sessionKey,
      remove: (key) => void (this.#closed || this.#writer.remove(key)),
      onActivity: () => this.#checker.start(),
    });
    this.#checker = new SessionChecker(config.checkInterval, () => this.#check());
    this.#requests = new RequestSessions({
      scope: this.#scope,
      logger,
      shared: this.#leases !== null || this.#sync !== null, // a store other processes share: load each request's key first
      prepareKey: (key, userId, anonymous) => {
        if (slots.get(key) === undefined) slots.ensure(key, userId ?? null).anonymous ||= anonymous;
      },
      load: (key, reserve) => this.load(key, reserve),
    });
    this.#sessionizer.sweep(clock(), false);
    if (slots.hasLiveSession()) this.#checker.start();
    this.plugin = {
      activateCorePlugin: (core) => lifecycle.attach(core),
      deactivatePlugin: () => this.#checker.stop(),
      beforeTrack: (pb) => this.#sessionizer.beforeTrack(pb),
      afterTrack: (payload) => this.#sessionizer.afterTrack(payload),
    };
  }

  /** A synchronous store's sessions (SQLite): read and written in the store's transactions, key by key. */
  #syncSessions(store: SyncSessionStore, options: ClientSessionOptions, lifecycle: SessionLifecycle): SyncSessions {
    const { policy, retention, continueSessionOnRestart } = this.#config;
    return new SyncSessions({
      store,
      slots: this.#slots,
      lifecycle,
      policy,
      storageMechanism: store.storageMechanism,
      logger: this.#logger,
      onError: (error) => safeCall(this.#logger, 'onError', options.onError, error),
      restartedAt: continueSessionOnRestart ? null : this.#startedAt,
      retention,
      cacheSize: store.cacheSize,
    });
  }

  run<T>(key: string, fn: () => T, options: { uid?: string | null } = {}): T {
    if (typeof key !== 'string' || key === '') throw new TypeError(`snowplow-client-session: run(key, fn) expects a non-empty string key, got ${describe(key)}`);
    if (typeof fn !== 'function') throw new TypeError(`snowplow-client-session: run(key, fn) expects a function, got ${describe(fn)}`);
    const uid = options?.uid === undefined ? key : options.uid;
    if (uid !== null && typeof uid !== 'string') throw new TypeError(`snowplow-client-session: run() option \`uid\` must be a string or null, got ${describe(uid)}`);
    return this.#scope.run({ key, uid }, fn);
  }

  middleware<Req extends NodeRequestLike = NodeRequestLike>(keyOf?: KeyOf<Req> | null, options?: RequestOptions): ConnectMiddleware<Req> {
    if (keyOf !== undefined && keyOf !== null && typeof keyOf !== 'function') throw new TypeError(`snowplow-client-session: middleware(keyOf) expects a function of the request (or nothing), got ${describe(keyOf)}`);
    return connectMiddleware(this.#requests, RequestSessions.resolve({ keyOf: keyOf ?? undefined, ...options }, 'middleware'));
  }

  fastify<Req extends FastifyRequestLike = FastifyRequestLike>(options?: AdapterOptions<Req>): FastifySessionPlugin {
    return fastifyPlugin(this.#requests, RequestSessions.resolve(options, 'fastify'));
  }

  koa<Ctx extends KoaContextLike = KoaContextLike>(options?: AdapterOptions<Ctx>): KoaSessionMiddleware<Ctx> {
    return koaMiddleware(this.#requests, RequestSessions.resolve(options, 'koa'));
  }

  async withSession<T, Req extends RequestWithHeaders = RequestWithHeaders>(request: Req, fn: (visitor: Visitor) => T, options?: AdapterOptions<Req>): Promise<Awaited<T>> {
    if (typeof fn !== 'function') throw new TypeError(`snowplow-client-session: withSession(request, fn) expects a function, got ${describe(fn)}`);
    return withRequestSession(this.#requests, request, fn, RequestSessions.resolve(options, 'withSession'));
  }

  visitor(): Visitor | null {
    return this.#scope.current()?.visitor ?? null;
  }

  setBackground(isBackground: boolean, key?: string): void {
    if (typeof isBackground !== 'boolean') throw new TypeError(`snowplow-client-session: setBackground expects a boolean, got ${describe(isBackground)}`);
    this.#sessionizer.switchBackground(this.#slots.ensure(key), isBackground, this.#clock());
    if (!isBackground && this.#slots.hasLiveSession()) this.#checker.start(); // seed 003: foregrounding resumes the checker
  }

  isBackground(key?: string): boolean {
    return this.#slots.get(key)?.background ?? false;
  }

  getSessionContext(key?: string): ClientSessionEntity | null {
    const entity = this.#slots.get(key)?.lastEntity ?? null;
    return entity === null ? null : { ...entity };
  }

  startNewSession(key?: string): void {
    if (this.#sync !== null) return this.#sync.startNewSession(this.#slots.ensure(key));
    this.#slots.ensure(key).forceNewSession = 'manual';
  }

  setAnonymous(anonymous: boolean, key?: string): void {
    if (typeof anonymous !== 'boolean') throw new TypeError(`snowplow-client-session: setAnonymous expects a boolean, got ${describe(anonymous)}`);
    const slot = this.#slots.ensure(key);
    if (this.#sync !== null) return this.#sync.setAnonymous(slot, anonymous);
    if (slot.anonymous === anonymous) return;
    slot.anonymous = anonymous;
    if (slot.session !== null) slot.forceNewSession = 'anonymous'; // a session never mixes identified and anonymous events
  }

  isAnonymous(key?: string): boolean {
    if (this.#sync !== null) return this.#sync.isAnonymous(this.#slots.ensure(key));
    return this.#slots.get(key)?.anonymous ?? this.#config.anonymous;
  }

  reset(key?: string): void {
    const slot = this.#slots.ensure(key);
    if (this.#sync !== null) return this.#sync.reset(slot);
    slot.userId = uuidv4();
    if (this.#leases !== null) {
      // The shared store replaces the record at the next load(); this process's copy goes now.
      slot.forceNewSession = 'reset';
      slot.fresh = true;
      this.#leases.drop(key);
      slot.session = null;
      slot.lastEntity = null;
      return;
    }
    if (slot.session !== null && !slot.session.ended) this.#lifecycle.ended(slot, endSession(slot.session), 'reset');
    slot.session = null;
    slot.lastEntity = null;
    slot.forceNewSession = null;
    this.#reservations.forget(key);
    if (!this.#closed) this.#writer.remove(key);
  }

  setTimeouts(timeouts: Partial<SessionTimeouts>): void {
    const next = resolveTimeouts(timeouts, this.getTimeouts(), 'snowplow-client-session: setTimeouts');
    const { policy } = this.#config; // shared by reference with every part that decides
    policy.foregroundTimeout = next.foregroundTimeout * 1000;
    policy.backgroundTimeout = next.backgroundTimeout * 1000;
    policy.maxSessionLength = next.maxSessionLength * 1000;
  }

  getTimeouts(): SessionTimeouts {
    const { policy } = this.#config;
    return { foregroundTimeout: policy.foregroundTimeout / 1000, backgroundTimeout: policy.backgroundTimeout / 1000, maxSessionLength: policy.maxSessionLength / 1000 };
  }

  suspend(): void {
    this.#config.policy.suspended = true;
  }

  resume(): void {
    if (this.#config.policy.suspended !== true) return;
    this.#config.policy.suspended = false;
    if (this.#config.policy.eventTime === true) return; // events' own times measure idleness, not the resume
    const now = this.#clock();
    for (const slot of this.#slots.all()) {
      const session = slot.session;
      if (session === null || session.ended) continue;
      // Idle time counts from the resume; a shared store hears of it at once (its next lease measures from it).
      const leased = this.#leases?.has(slot.key) ?? false;
      const resumedAt = leased ? this.#leases!.storeTime(now) : now;
      this.#commit(slot, { ...session, lastActivityAt: Math.max(session.lastActivityAt, resumedAt) }, leased ? 'now' : 'paced');
    }
    if (this.#sync !== null) this.flush().catch(() => undefined); // a failure is the next event's to report
  }

  isSuspended(): boolean {
    return this.#config.policy.suspended === true;
  }

  async load(key?: string, reserve = DEFAULT_LEASE): Promise<void> {
    if (this.#leases === null && this.#sync === null) return;
    if (!Number.isInteger(reserve) || reserve < 1) throw new RangeError(`snowplow-client-session: load() reserve must be a whole number >= 1, got ${reserve}`);
    const slot = this.#slots.ensure(key);
    if (this.#sync !== null) return this.#sync.load(slot, reserve, this.#clock()); // the request's events share one reservation
    await this.#leases!.load(key, {
      policy: this.#config.policy,
      background: slot.background,
      forceNewSession: slot.forceNewSession !== null,
      forceReason: slot.forceNewSession ?? undefined,
      fresh: slot.fresh,
      restartedAt: this.#config.continueSessionOnRestart ? null : this.#startedAt,
      anonymous: slot.anonymous,
      block: reserve,
      newSessionId: uuidv4(),
      newUserId: slot.userId,
      known: slot.session === null ? null : { sessionId: slot.session.sessionId, sessionIndex: slot.session.sessionIndex },
    });
  }

  flush(): Promise<void> {
    if (this.#sync === null) return this.#writer.flush();
    return this.#sync.settleSoon(false);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#checker.stop();
    this.#writer.stop();
    try {
      await this.#sync?.settleSoon(true); // gives back unused event indexes: a clean stop leaves no gap
      await this.#writer.flush();
    } finally {
      await this.#store.close?.();
    }
  }

  #commit(slot: Slot, state: SessionState, write: WriteMode): void {
    slot.session = state;
    if (this.#closed || write === 'none' || this.#sync !== null) return; // a synchronous store was written in the decision's transaction
    if (write === 'now') this.#writer.saveNow(slot.key, state);
    else this.#writer.save(slot.key, state);
  }

  /** A lease from the shared store becomes the key's session; the rotation it made is reported here only. */
  #applyLease(key: string | undefined, outcome: LeaseOutcome): void {
    const lifecycle = this.#lifecycle;
    const slot = this.#slots.ensure(key);
    if (outcome.ended !== null) lifecycle.ended(slot, endSession(outcome.ended.session), outcome.ended.reason);
    if (outcome.anonymous !== undefined) slot.anonymous = outcome.anonymous; // every process masks the key alike
    // This process may know the first event before its write has told the store.
    const known = slot.session?.sessionId === outcome.session.sessionId ? slot.session : null;
    const session: SessionState = {
      ...outcome.session,
      firstEventId: outcome.session.firstEventId ?? known?.firstEventId ?? null,
      firstEventTimestamp: outcome.session.firstEventTimestamp ?? known?.firstEventTimestamp ?? null,
      lastUid: known?.lastUid ?? null,
    };
    if (outcome.opened) lifecycle.opened(slot, session);
    else slot.session = session; // the store has it already: nothing to write
    slot.userId = session.userId;
    slot.forceNewSession = null;
    slot.fresh = false;
    this.#checker.start();
  }

  /** The checker's tick: end what has expired, forget idle keys, stop when nothing is live. */
  #check(): void {
    try {
      if (this.#sync !== null) this.#sync.check(this.#clock());
      else this.#sessionizer.sweep(this.#clock(), true);
      if (!this.#slots.hasLiveSession()) this.#checker.stop();
    } catch (error) {
      this.#logger.error('snowplow-client-session: the session check failed', error);
    }
  }

  #clock(): number {
    const value = this.#config.now();
    if (Number.isFinite(value) && Math.abs(value) <= MAX_DATE_MS) return value;
    this.#logger.warn(`snowplow-client-session: now() returned ${String(value)}; using Date.now() instead`);
    return Date.now();
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

/** The store's paced writer: a failed write is logged, reported to `onError` and retried. */
function storeWriter(store: SessionStore, options: ClientSessionOptions, logger: SessionLogger, writeInterval: number): SessionWriter {
  return new SessionWriter(
    store,
    (error) => {
      logFailure(logger, 'snowplow-client-session: cannot write the session store; tracking goes on from memory and the write is retried', error);
      safeCall(logger, 'onError', options.onError, error);
    },
    () => logger.warn('snowplow-client-session: the session store is writable again'),
    writeInterval,
  );
}
