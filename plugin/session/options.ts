import type { SessionStore } from '../stores/session-store.js';
import { STORAGE_MECHANISMS } from '../stores/session-store.js';
import type { SessionPolicy } from './state.js';

/** Where the plugin reports problems; tracker-core's `LOG` by default. */
export interface SessionLogger {
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
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
}

export interface ResolvedOptions {
  policy: SessionPolicy;
  now: () => number;
}

export const DEFAULTS = { foregroundTimeout: 600, backgroundTimeout: 300 } as const;
/** The shortest timeout allowed, in seconds (Braze's minimum: anything shorter splits ordinary bursts). */
export const MIN_TIMEOUT = 1;
/** How far the clock may step back (ms) before it counts as a clock change rather than jitter. */
export const CLOCK_TOLERANCE_MS = 1_000;

const PREFIX = 'snowplow-client-session: createClientSession option';

/** Checks every option and turns seconds into the state machine's milliseconds. Throws on bad input. */
export function resolveOptions(options: ClientSessionOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`snowplow-client-session: createClientSession expects an options object, got ${typeof options}`);
  }
  const foregroundTimeout = seconds(options, 'foregroundTimeout', DEFAULTS.foregroundTimeout);
  const backgroundTimeout = seconds(options, 'backgroundTimeout', DEFAULTS.backgroundTimeout);
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError(`${PREFIX} \`now\` must be a function returning ms since epoch, got ${typeof options.now}`);
  }
  checkStore(options.store);
  checkLogger(options.logger);
  return {
    policy: {
      foregroundTimeout: foregroundTimeout * 1000,
      backgroundTimeout: backgroundTimeout * 1000,
      maxSessionLength: 0,
      clockTolerance: CLOCK_TOLERANCE_MS,
      newSessionOnUserChange: false,
    },
    now: options.now ?? Date.now,
  };
}

function seconds(options: ClientSessionOptions, name: 'foregroundTimeout' | 'backgroundTimeout', fallback: number): number {
  const value: unknown = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${PREFIX} \`${name}\` must be a number of seconds, got ${typeof value}`);
  if (!Number.isFinite(value) || value < MIN_TIMEOUT) {
    throw new RangeError(`${PREFIX} \`${name}\` must be a finite number of seconds >= ${MIN_TIMEOUT}, got ${value}`);
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
