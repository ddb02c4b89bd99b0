import type { SessionStore } from '../stores/session-store.js';
import { checkOptionNames } from '../util/closest-name.js';
import { OPTION_NAMES } from './option-names.js';
import { STORAGE_MECHANISMS, storeAccess } from '../stores/session-store.js';
import type { ClientSessionEntity } from './entity.js';
import type { SessionEndReason, SessionPolicy } from './state.js';

/** What the callbacks receive: the session's `client_session` data, and its key for keyed sessions. */
export type SessionInfo = ClientSessionEntity & { key?: string };

/** What `onForeground`/`onBackground` receive: the session, and the transitions counted in it (as the mobile trackers count them). */
export type TransitionInfo = SessionInfo & { foregroundIndex: number; backgroundIndex: number };

/** The timeouts, in seconds, as `setTimeouts` takes them and `getTimeouts` gives them. */
export interface SessionTimeouts {
  foregroundTimeout: number;
  backgroundTimeout: number;
  /** `0` is off. */
  maxSessionLength: number;
}

/** Where the plugin reports problems; tracker-core's `LOG` by default. */
export interface SessionLogger {
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
  /** Optional: stacks of store failures go here (their one-line cause goes to `error`). */
  debug?(message: string, ...details: unknown[]): void;
}

export interface ClientSessionOptions {
  /** Where sessions are kept. Default: `new LowdbSessionStore({ file: '.snowplow/client_session.json' })`. */
  store?: SessionStore;
  /** Seconds of inactivity, in the foreground, after which the next event opens a new session. Default 600. */
  foregroundTimeout?: number;
  /** Seconds of inactivity, in the background, after which the next event opens a new session. Default 300. */
  backgroundTimeout?: number;
  /** The clock, in ms since epoch; every time decision uses it. Default `Date.now`. */
  now?: () => number;
  /** Where warnings and errors go. Default: tracker-core's logger. */
  logger?: SessionLogger;
  /** Seconds at least between two writes of the store (`flush()` and `close()` write at once). Default 1. */
  writeInterval?: number;
  /** Seconds between checks that end idle sessions on time (an unref'd timer); `0` turns it off. Default 15. */
  checkInterval?: number;
  /** Seconds after which a session rotates on its next event however active it is; `0` is off. Default off. */
  maxSessionLength?: number;
  /** A new session starts when the event's `uid` differs from the previous event's. Default false. */
  newSessionOnUserChange?: boolean;
  /** Track `session_start` and `session_end` events through the same tracker. Default false. */
  sessionEvents?: boolean;
  /** Also set the payload's `sid` and `vid` (domain_sessionid, domain_sessionidx). Default false. */
  atomicSessionFields?: boolean;
  /** One session per key (e.g. `p => p.uid`): each key is sessionized on its own; `undefined` is the default session. */
  sessionKey?: (payload: Record<string, unknown>) => string | undefined;
  /** Seconds a keyed session may stay idle before its record is pruned. Default 30 days. */
  retention?: number;
  onSessionStart?: (session: SessionInfo) => void;
  onSessionEnd?: (session: SessionInfo, reason: SessionEndReason) => void;
  /** After every event counted, with the session as the event saw it. */
  onSessionUpdate?: (session: SessionInfo) => void;
  /** Store failures, once per streak of failures (also logged). */
  onError?: (error: unknown) => void;
  /**
   * Milliseconds a shared store (RedisSessionStore) may take to answer `load()`; after that the key's
   * session goes on locally (one warning per outage). Default 1000.
   */
  loadTimeout?: number;
  /** With a shared store: `createClientSession` rejects when the store does not answer within `loadTimeout`. Default false. */
  requireStore?: boolean;
  /** Anonymous tracking (per key with `setAnonymous`): entities carry the nil `userId` and no `previousSessionId`. Default false. */
  anonymous?: boolean;
  /** A new process continues the stored sessions (true), or opens new ones linked to them (false: the mobile trackers' default). Default true. */
  continueSessionOnRestart?: boolean;
  /** Called on every switch to the foreground (`setBackground(false)`, an application_foreground event). */
  onForeground?: (session: TransitionInfo) => void;
  /** Called on every switch to the background. */
  onBackground?: (session: TransitionInfo) => void;
  /**
   * What time sessions are measured in: `processing` (the clock, `now`, when `track()` runs) or `event` (each
   * event's true timestamp `ttm`, else `dtm`: for backfills and queue consumers). Default `processing`.
   */
  clock?: SessionClock;
}

/** What time sessions are measured in (`clock` option). */
export type SessionClock = 'processing' | 'event';
const CLOCKS: readonly SessionClock[] = ['processing', 'event'];

export interface ResolvedOptions {
  policy: SessionPolicy;
  now: () => number;
  checkInterval: number;
  writeInterval: number;
  retention: number;
  sessionEvents: boolean;
  atomicSessionFields: boolean;
  /** `now` was given: it drives shared decisions too (else the shared store's own clock does). */
  injectedClock: boolean;
  loadTimeout: number;
  requireStore: boolean;
  anonymous: boolean;
  continueSessionOnRestart: boolean;
}

export const DEFAULTS = { foregroundTimeout: 600, backgroundTimeout: 300, checkInterval: 15, writeInterval: 1, retention: 30 * 24 * 3600, loadTimeout: 1000 } as const;
/** The shortest timeout allowed, in seconds (Braze's minimum: anything shorter splits ordinary bursts). */
export const MIN_TIMEOUT = 1;
/** How far the clock may step back (ms) before it counts as a clock change rather than jitter. */
export const CLOCK_TOLERANCE_MS = 1_000;

const PREFIX = 'snowplow-client-session: createClientSession option';

// OPTION_NAMES lists exactly the interface's options: the compiler refuses this line otherwise.
const OPTION_NAMES_MATCH: [Exclude<keyof ClientSessionOptions, (typeof OPTION_NAMES)[number]>, Exclude<(typeof OPTION_NAMES)[number], keyof ClientSessionOptions>] extends [never, never] ? true : never = true;
void OPTION_NAMES_MATCH;

/** A value's kind as a person names it: `null` and `array` are not `object`. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** Timeouts are seconds; one of a day or more was most likely given in milliseconds. */
const LOOKS_LIKE_MILLISECONDS = 86_400;

/** Warnings about options that are allowed but most likely mistaken (each said once, at creation). */
export function optionWarnings(options: ClientSessionOptions): string[] {
  const names = ['foregroundTimeout', 'backgroundTimeout', 'maxSessionLength', 'checkInterval', 'writeInterval'] as const;
  return names
    .filter((name) => typeof options[name] === 'number' && options[name] >= LOOKS_LIKE_MILLISECONDS)
    .map((name) => `snowplow-client-session: createClientSession option \`${name}\` is ${options[name]} seconds (${((options[name] as number) / 86_400).toFixed(1)} days): timeouts are in seconds, not milliseconds`);
}

/** Checks every option and turns seconds into the state machine's milliseconds. Throws on bad input. */
export function resolveOptions(options: ClientSessionOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`snowplow-client-session: createClientSession expects an options object, got ${typeName(options)}`);
  }
  checkOptionNames(options, OPTION_NAMES, PREFIX);
  const { foregroundTimeout, backgroundTimeout, maxSessionLength } = resolveTimeouts(options, { foregroundTimeout: DEFAULTS.foregroundTimeout, backgroundTimeout: DEFAULTS.backgroundTimeout, maxSessionLength: 0 });
  const checkInterval = seconds(options, 'checkInterval', DEFAULTS.checkInterval, 0);
  const writeInterval = seconds(options, 'writeInterval', DEFAULTS.writeInterval, 0);
  const retention = seconds(options, 'retention', DEFAULTS.retention, MIN_TIMEOUT);
  const loadTimeout = options.loadTimeout ?? DEFAULTS.loadTimeout;
  if (typeof loadTimeout !== 'number' || !Number.isFinite(loadTimeout) || loadTimeout < 1) {
    throw new RangeError(`${PREFIX} \`loadTimeout\` must be a finite number of milliseconds >= 1, got ${String(loadTimeout)}`);
  }
  for (const name of ['now', 'sessionKey', 'onSessionStart', 'onSessionEnd', 'onSessionUpdate', 'onError', 'onForeground', 'onBackground'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`${PREFIX} \`${name}\` must be a function, got ${typeName(options[name])}`);
    }
  }
  for (const name of ['newSessionOnUserChange', 'sessionEvents', 'atomicSessionFields', 'requireStore', 'anonymous', 'continueSessionOnRestart'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new TypeError(`${PREFIX} \`${name}\` must be true or false, got ${typeName(options[name])}`);
    }
  }
  checkStore(options.store);
  checkLogger(options.logger);
  const clock = options.clock ?? 'processing';
  if (!CLOCKS.includes(clock)) throw new RangeError(`${PREFIX} \`clock\` must be 'processing' or 'event', got ${typeof clock === 'string' ? JSON.stringify(clock) : typeName(clock)}`);
  if (clock === 'event' && options.store !== undefined && storeAccess(options.store) !== 'startup') {
    throw new TypeError(`${PREFIX} \`clock: 'event'\` needs a store this process owns (memory, lowdb): a shared store (SQLite, Redis) has every process decide sessions on its clock, and its checker ends them by that clock`);
  }
  return {
    policy: {
      foregroundTimeout: foregroundTimeout * 1000,
      backgroundTimeout: backgroundTimeout * 1000,
      maxSessionLength: maxSessionLength * 1000,
      clockTolerance: CLOCK_TOLERANCE_MS,
      newSessionOnUserChange: options.newSessionOnUserChange ?? false,
      eventTime: clock === 'event',
    },
    now: options.now ?? Date.now,
    checkInterval: checkInterval * 1000,
    writeInterval: writeInterval * 1000,
    retention: retention * 1000,
    sessionEvents: options.sessionEvents ?? false,
    atomicSessionFields: options.atomicSessionFields ?? false,
    injectedClock: options.now !== undefined,
    loadTimeout,
    requireStore: options.requireStore ?? false,
    anonymous: options.anonymous ?? false,
    continueSessionOnRestart: options.continueSessionOnRestart ?? true,
  };
}

/**
 * The timeouts in `options` (seconds), each checked as `createClientSession` checks it; absent ones are
 * `current`'s. Also what `setTimeouts` uses, so both refuse the same values with the same messages.
 */
export function resolveTimeouts(options: Partial<SessionTimeouts>, current: SessionTimeouts, prefix = PREFIX): SessionTimeouts {
  if (options === null || typeof options !== 'object') throw new TypeError(`${prefix.replace(/ option$/, '')} expects an object of timeouts in seconds, got ${options === null ? 'null' : typeof options}`);
  const timeouts = {
    foregroundTimeout: seconds(options, 'foregroundTimeout', current.foregroundTimeout, MIN_TIMEOUT, prefix),
    backgroundTimeout: seconds(options, 'backgroundTimeout', current.backgroundTimeout, MIN_TIMEOUT, prefix),
    maxSessionLength: seconds(options, 'maxSessionLength', current.maxSessionLength, 0, prefix),
  };
  if (timeouts.maxSessionLength > 0 && timeouts.maxSessionLength < MIN_TIMEOUT) {
    throw new RangeError(`${prefix} \`maxSessionLength\` must be 0 (off) or a finite number of seconds >= ${MIN_TIMEOUT}, got ${timeouts.maxSessionLength}`);
  }
  return timeouts;
}

type SecondsOption = 'foregroundTimeout' | 'backgroundTimeout' | 'checkInterval' | 'writeInterval' | 'maxSessionLength' | 'retention';

function seconds(options: Partial<Record<SecondsOption, unknown>>, name: SecondsOption, fallback: number, min: number, prefix = PREFIX): number {
  const value: unknown = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${prefix} \`${name}\` must be a number of seconds, got ${typeName(value)}`);
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`${prefix} \`${name}\` must be a finite number of seconds >= ${min}, got ${value}`);
  }
  return value;
}

function checkStore(store: unknown): void {
  if (store === undefined) return;
  const candidate = store as Partial<SessionStore> | null;
  const missing = (['getSession', 'setSession', 'deleteSession'] as const).filter((m) => typeof candidate?.[m] !== 'function');
  if (missing.length > 0) {
    throw new TypeError(`${PREFIX} \`store\` must implement SessionStore; missing ${missing.join(', ')}`);
  }
  if (!STORAGE_MECHANISMS.includes(candidate!.storageMechanism as never)) {
    throw new RangeError(
      `${PREFIX} \`store\`: storageMechanism must be one of ${STORAGE_MECHANISMS.join(', ')}, got ${String(candidate!.storageMechanism)}`,
    );
  }
}

function checkLogger(logger: unknown): void {
  if (logger === undefined) return;
  const candidate = logger as Partial<SessionLogger> | null;
  if (typeof candidate?.warn !== 'function' || typeof candidate.error !== 'function') {
    throw new TypeError(`${PREFIX} \`logger\` must have warn(message) and error(message) methods`);
  }
}
