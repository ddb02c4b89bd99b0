/**
 * Waiting for events and checking for failed ones: `collector.waitFor`, `collector.expectNoBadEvents` and
 * `POST /micro/wait`. A wait looks at the stored events once, then only at each new one as it arrives (no
 * polling); when its time runs out it reports the closest events and the failed ones.
 */
import { compileQuery, type CompiledQuery, type MatchableEvent } from './event-match.js';
import type { EventCache, StoredEvent } from './event-cache.js';
import { fullAnalyticsJson } from './enriched-event.js';
import { QueryError } from './event-query.js';
import { FAILURE_COLUMN, type FailureEntity } from './failure-entity.js';
import { describeFailedEvents, describeMiss, type ClosestEvent, type FailedEventError, type FailedEventReport, type WaitMiss } from './wait-report.js';

export interface WaitOptions {
  /** How many matching good events to wait for. Default 1. */
  count?: number;
  /** Milliseconds to wait; `0` looks at what has arrived and does not wait. Default 3000 (below Jest's and Vitest's 5 s test timeout). */
  timeout?: number;
  /** Only events that arrived at or after this time (`collector_tstamp`, ms precision): a Date, ms since the epoch, or ISO 8601. */
  since?: Date | number | string;
}

export interface BadEventsOptions {
  since?: WaitOptions['since'];
}

export const DEFAULT_WAIT_MS = 3000;
/** The longest wait allowed, in process or over HTTP. */
export const MAX_WAIT_MS = 600_000;
/** Waits in flight at once; more are refused (HTTP 503). */
export const MAX_WAITERS = 1000;
const CLOSEST_SHOWN = 3;
const BAD_SHOWN = 5;

/** `waitFor`'s rejection when the time ran out: the message explains; `closest` and `bad` hold the same as data. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly found: number;
  readonly count: number;
  readonly closest: ClosestEvent[];
  readonly bad: FailedEventReport[];

  constructor(readonly miss: WaitMiss) {
    super(`snowplow-client-session: waitFor timed out. ${describeMiss(miss)}`);
    this.found = miss.found;
    this.count = miss.count;
    this.closest = miss.closest;
    this.bad = miss.bad;
  }
}

/** `expectNoBadEvents`' error: the message lists the failed events and their errors; `bad` holds them. */
export class BadEventsError extends Error {
  override readonly name = 'BadEventsError';

  constructor(
    readonly bad: FailedEventReport[],
    readonly total: number,
  ) {
    super(`snowplow-client-session: expected no failed events, found ${total}.\n${describeFailedEvents(bad, total)}`);
  }
}

/** Too many waits at once (HTTP 503). */
export class TooManyWaitsError extends Error {}

interface Waiter {
  query: CompiledQuery;
  count: number;
  since: number | null;
  /** The newest event looked at (arrival order). */
  seen: number;
  matches: StoredEvent[];
  finish(error: Error | null): void;
}

/** The waits in flight on one collector's events. */
export class EventWaiters {
  readonly #waiting = new Set<Waiter>();
  /** Request headers read from stored events' JSON, kept while the event is. */
  readonly #headers = new WeakMap<StoredEvent, readonly string[]>();

  constructor(private readonly cache: EventCache) {}

  /** Waits in flight. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Called once a good event is stored: every wait looks at what is new to it. */
  arrived(): void {
    for (const waiter of this.#waiting) this.#look(waiter);
  }

  /**
   * Resolves with the matching good events (Analytics SDK JSON, in arrival order) once at least `count`
   * have arrived; rejects with `WaitTimeoutError` after `timeout` ms, `QueryError` for a query or option
   * that is wrong, or an `AbortError` when `signal` aborts (a client that went away).
   */
  wait(query: unknown, options: WaitOptions = {}, signal?: AbortSignal): Promise<Array<Record<string, unknown>>> {
    const compiled = compileQuery(query);
    const { count, timeout, since } = waitOptions(options);
    if (this.#waiting.size >= MAX_WAITERS) throw new TooManyWaitsError(`${MAX_WAITERS} waits are in flight; wait for one to end`);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        query: compiled,
        count,
        since,
        seen: -1,
        matches: [],
        finish: (error) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.#waiting.delete(waiter);
          if (error === null) resolve(waiter.matches.map((event) => structuredClone(fullAnalyticsJson(event.row))));
          else reject(error);
        },
      };
      const onAbort = () => waiter.finish(signal!.reason instanceof Error ? signal!.reason : new Error('the wait was aborted'));
      let timer: NodeJS.Timeout | undefined;
      this.#waiting.add(waiter);
      if (signal?.aborted === true) return onAbort();
      if (this.#look(waiter)) return;
      if (timeout === 0) return waiter.finish(this.#timedOut(waiter, timeout));
      timer = setTimeout(() => waiter.finish(this.#timedOut(waiter, timeout)), timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Throws `BadEventsError` listing the failed events that match `query` (all by default) since `since`. */
  expectNoBadEvents(query: unknown = {}, options: BadEventsOptions = {}): void {
    const compiled = compileQuery(query);
    const since = instant(options.since, 'since');
    const failed = this.#failed(since, (event) => compiled.matches(event));
    if (failed.length > 0) throw new BadEventsError(failed.slice(0, BAD_SHOWN).map(failedReport), failed.length);
  }

  /** Ends every wait in flight (the collector closes). */
  close(): void {
    for (const waiter of [...this.#waiting]) waiter.finish(new Error('snowplow-client-session: the collector was closed during waitFor'));
  }

  /** Looks at the events that arrived since the waiter last looked; finishes it when enough match. */
  #look(waiter: Waiter): boolean {
    const fresh: StoredEvent[] = [];
    for (const event of this.cache.events(true)) {
      if (event.seq <= waiter.seen) break;
      fresh.push(event);
    }
    if (fresh.length === 0) return false;
    waiter.seen = fresh[0]!.seq;
    for (let i = fresh.length - 1; i >= 0; i--) {
      const event = fresh[i]!;
      if (this.#inRange(event, waiter.since) && waiter.query.matches(this.#matchable(event))) waiter.matches.push(event);
    }
    if (waiter.matches.length < waiter.count) return false;
    waiter.finish(null);
    return true;
  }

  #timedOut(waiter: Waiter, timeout: number): WaitTimeoutError {
    const { query } = waiter;
    const ranked: Array<{ closest: ClosestEvent; tags: number; score: number }> = [];
    let looked = 0;
    for (const event of this.cache.events(true)) {
      if (!this.#inRange(event, waiter.since)) continue;
      looked++;
      const matchable = this.#matchable(event);
      if (query.matches(matchable)) continue;
      const { score, tags, expected, actual, mismatches } = query.closeness(matchable);
      ranked.push({ tags, score, closest: { event: fullAnalyticsJson(event.row), expected, actual, mismatches } });
    }
    // The test's own events first (its tag matches), then the highest scores; among equals the newest (the
    // list is newest first and the sort is stable).
    ranked.sort((a, b) => b.tags - a.tags || b.score - a.score);
    const failed = this.#failed(waiter.since, (event) => query.matchesTags(event));
    return new WaitTimeoutError({
      query: query.text,
      count: waiter.count,
      found: waiter.matches.length,
      timeout,
      looked,
      closest: ranked.slice(0, CLOSEST_SHOWN).map((entry) => entry.closest),
      bad: failed.slice(0, BAD_SHOWN).map(failedReport),
      badTotal: failed.length,
    });
  }

  /** Failed events since `since` that `select` keeps, newest first. */
  #failed(since: number | null, select: (event: MatchableEvent) => boolean): StoredEvent[] {
    const found: StoredEvent[] = [];
    for (const event of this.cache.events(false)) if (this.#inRange(event, since) && select(this.#matchable(event))) found.push(event);
    return found;
  }

  #inRange(event: StoredEvent, since: number | null): boolean {
    return since === null || event.time >= since;
  }

  #matchable(event: StoredEvent): MatchableEvent {
    return { row: event.row, headers: () => this.#headersOf(event) };
  }

  /** A stored event's request headers, from its Micro JSON (good: `rawEvent.context`, bad: `collectorPayload`). */
  #headersOf(event: StoredEvent): readonly string[] {
    let headers = this.#headers.get(event);
    if (headers === undefined) {
      const json = JSON.parse(event.json) as { rawEvent?: { context?: { headers?: string[] } } | null; collectorPayload?: { headers?: string[] } };
      headers = (event.valid ? json.rawEvent?.context?.headers : json.collectorPayload?.headers) ?? [];
      this.#headers.set(event, headers);
    }
    return headers;
  }
}

function failedReport(event: StoredEvent): FailedEventReport {
  const failures = (event.row[FAILURE_COLUMN] ?? []) as Array<Partial<FailureEntity>>;
  const errors: FailedEventError[] = failures.flatMap((failure) =>
    (failure.errors ?? []).map((error) => ({ schema: failure.schema ?? null, message: error.message, path: error.path ?? null })),
  );
  return { event: fullAnalyticsJson(event.row), errors };
}

/** Checks `count`, `timeout` and `since` (throws `QueryError` naming the option and what is allowed). */
export function waitOptions(options: unknown): { count: number; timeout: number; since: number | null } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new QueryError(`the options must be an object such as {"count": 1, "timeout": 3000}, got ${JSON.stringify(options)}`);
  const { count = 1, timeout = DEFAULT_WAIT_MS, since } = options as Record<string, unknown>;
  if (!Number.isInteger(count) || (count as number) < 1) throw new QueryError(`count must be a whole number >= 1, got ${JSON.stringify(count)}`);
  if (!Number.isInteger(timeout) || (timeout as number) < 0 || (timeout as number) > MAX_WAIT_MS) {
    throw new QueryError(`timeout must be a whole number of milliseconds from 0 to ${MAX_WAIT_MS}, got ${JSON.stringify(timeout)}`);
  }
  return { count: count as number, timeout: timeout as number, since: instant(since, 'since') };
}

function instant(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  const time = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(time)) throw new QueryError(`${name} must be a Date, milliseconds since the epoch, or an ISO 8601 time such as 2026-01-01T00:00:00Z, got ${JSON.stringify(value)}`);
  return time;
}
