/** Plain assertions for `node:test` (or any runner): they throw node:assert's `AssertionError`. */
import { AssertionError } from 'node:assert';
import type { BadEventsOptions, EventQuery, WaitOptions } from '../collector/index.js';
import { describeFailedEvents, describeMiss } from '../collector/wait-report.js';
import { asCollector, isBadEvents, isWaitTimeout, type TestedCollector } from './collector-like.js';

/**
 * Waits until at least `count` good events matching `query` have reached the collector and resolves with
 * them (Analytics SDK JSON, in arrival order); otherwise rejects with an `AssertionError` whose message
 * lists the closest events, with a diff of what differs, and the failed events with their errors.
 */
export async function assertTracked(collector: TestedCollector, query: EventQuery, options?: WaitOptions): Promise<Array<Record<string, unknown>>> {
  const tested = asCollector(collector, 'assertTracked(collector, query, options?)');
  try {
    return await tested.waitFor(query, options);
  } catch (error) {
    if (!isWaitTimeout(error)) throw error;
    const closest = error.closest[0];
    throw new AssertionError({
      message: `assertTracked: ${describeMiss(error.miss)}`,
      expected: closest?.expected ?? query,
      actual: closest?.actual ?? null,
      operator: 'assertTracked',
    });
  }
}

/** Throws an `AssertionError` listing the failed events (those matching `query`, since `since`) and their errors, if any. */
export function assertNoBadEvents(collector: TestedCollector, query?: EventQuery, options?: BadEventsOptions): void {
  const tested = asCollector(collector, 'assertNoBadEvents(collector)');
  try {
    tested.expectNoBadEvents(query, options);
  } catch (error) {
    if (!isBadEvents(error)) throw error;
    throw new AssertionError({
      message: `assertNoBadEvents: expected no failed events, found ${error.total}.\n${describeFailedEvents(error.bad, error.total)}`,
      expected: 0,
      actual: error.total,
      operator: 'assertNoBadEvents',
    });
  }
}
