import type { BadEventsError, RunningCollector, WaitTimeoutError } from '../collector/index.js';

/** What the matchers and assertions use of a collector: the object `startCollector()` resolves to. */
export type TestedCollector = Pick<RunningCollector, 'waitFor' | 'expectNoBadEvents'>;

/** The collector given to a matcher or assertion, or a clear error saying what is expected instead. */
export function asCollector(value: unknown, where: string): TestedCollector {
  const candidate = value as Partial<TestedCollector> | null;
  if (candidate !== null && typeof candidate === 'object' && typeof candidate.waitFor === 'function' && typeof candidate.expectNoBadEvents === 'function') {
    return candidate as TestedCollector;
  }
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object without waitFor()' : typeof value;
  throw new TypeError(`snowplow-client-session: ${where} takes the collector that startCollector() resolves to (from snowplow-client-session/collector), got ${got}`);
}

// By name, not `instanceof`: an app may hold two copies of this package (a test helper's and its own).

export function isWaitTimeout(error: unknown): error is WaitTimeoutError {
  return error instanceof Error && error.name === 'WaitTimeoutError' && 'miss' in error;
}

export function isBadEvents(error: unknown): error is BadEventsError {
  return error instanceof Error && error.name === 'BadEventsError' && 'bad' in error;
}
