/**
 * `expect.extend(snowplowMatchers)` for Jest and Vitest: `await expect(collector).toHaveTrackedEvent(query,
 * options?)` and `await expect(collector).toHaveNoBadEvents(query?, options?)`. Messages come with the
 * runner's own hint and diff (`this.utils`), so they look like the runner's built-in matchers.
 */
import type { BadEventsOptions, EventQuery, WaitOptions } from '../collector/index.js';
import { describe as describeQuery } from '../collector/event-match.js';
import { describeEvent, describeFailedEvents, describeMiss } from '../collector/wait-report.js';
import { asCollector, isBadEvents, isWaitTimeout } from './collector-like.js';

/** What Jest and Vitest give a matcher as `this` (the part used here). */
interface MatcherState {
  isNot?: boolean;
  promise?: string;
  utils: {
    diff(expected: unknown, received: unknown, options?: Record<string, unknown>): string | null | undefined;
    matcherHint(name: string, received?: string, expected?: string, options?: Record<string, unknown>): string;
  };
}

interface MatcherResult {
  pass: boolean;
  message(): string;
}

/** The matchers' signatures, for declaring them to a runner's types (see docs/testing.md). */
export interface SnowplowMatchers<R = unknown> {
  /** Waits until `count` (default 1) good events match `query` (default timeout 3000 ms). With `.not`: none has arrived yet (no wait). */
  toHaveTrackedEvent(query: EventQuery, options?: WaitOptions): R;
  /** No failed events (those matching `query`, since `since`). */
  toHaveNoBadEvents(query?: EventQuery, options?: BadEventsOptions): R;
}

async function toHaveTrackedEvent(this: MatcherState, received: unknown, query: EventQuery, options: WaitOptions = {}): Promise<MatcherResult> {
  const collector = asCollector(received, 'expect(collector).toHaveTrackedEvent(query, options?)');
  const hint = this.utils.matcherHint('toHaveTrackedEvent', 'collector', 'query', { isNot: this.isNot, promise: this.promise });
  // `.not` asks about what has arrived: waiting out the timeout to prove an absence would only slow tests down.
  const wait = this.isNot === true ? { ...options, timeout: 0 } : options;
  try {
    const events = await collector.waitFor(query, wait);
    const listed = events.slice(0, 3).map((event, i) => `  ${i + 1}. ${describeEvent(event)}`);
    return { pass: true, message: () => `${hint}\n\nExpected no event matching ${describeQuery(query)}, found ${events.length}:\n${listed.join('\n')}` };
  } catch (error) {
    if (!isWaitTimeout(error)) throw error;
    const diff = (expected: unknown, actual: unknown) => this.utils.diff(expected, actual, { expand: false }) ?? null;
    return { pass: false, message: () => `${hint}\n\n${describeMiss(error.miss, diff)}` };
  }
}

async function toHaveNoBadEvents(this: MatcherState, received: unknown, query?: EventQuery, options?: BadEventsOptions): Promise<MatcherResult> {
  const collector = asCollector(received, 'expect(collector).toHaveNoBadEvents(query?, options?)');
  const hint = this.utils.matcherHint('toHaveNoBadEvents', 'collector', query === undefined ? '' : 'query', { isNot: this.isNot, promise: this.promise });
  try {
    collector.expectNoBadEvents(query, options);
    return { pass: true, message: () => `${hint}\n\nExpected failed events, found none.` };
  } catch (error) {
    if (!isBadEvents(error)) throw error;
    return { pass: false, message: () => `${hint}\n\n${describeFailedEvents(error.bad, error.total)}` };
  }
}

/** For `expect.extend(snowplowMatchers)` in Jest or Vitest. Both matchers are async: `await expect(collector)…`. */
export const snowplowMatchers = { toHaveTrackedEvent, toHaveNoBadEvents };
