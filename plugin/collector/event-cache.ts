import type { BadEvent, GoodEvent } from './events.js';

/** Micro's filters for `POST /micro/good`. */
export interface GoodEventFilters {
  event_type?: string;
  schema?: string;
  /** Every one of these entity schemas must be attached. */
  contexts?: string[];
  limit?: number;
}

/**
 * The good and bad events, kept in memory like Micro's cache. Reads are newest first, as Micro answers.
 * At most `maxEvents` of each are kept: the oldest are dropped, and counted.
 */
export class EventCache {
  #good: GoodEvent[] = [];
  #bad: BadEvent[] = [];
  #dropped = { good: 0, bad: 0 };

  constructor(private readonly maxEvents: number) {}

  addGood(event: GoodEvent): void {
    this.#dropped.good += this.#add(this.#good, event);
  }

  addBad(event: BadEvent): void {
    this.#dropped.bad += this.#add(this.#bad, event);
  }

  counts(): { total: number; good: number; bad: number } {
    return { total: this.#good.length + this.#bad.length, good: this.#good.length, bad: this.#bad.length };
  }

  dropped(): { good: number; bad: number } {
    return { ...this.#dropped };
  }

  good(filters: GoodEventFilters = {}): GoodEvent[] {
    const matches: GoodEvent[] = [];
    const limit = filters.limit ?? Infinity;
    for (let i = this.#good.length - 1; i >= 0 && matches.length < limit; i--) {
      const event = this.#good[i]!;
      if (filters.event_type !== undefined && event.eventType !== filters.event_type) continue;
      if (filters.schema !== undefined && event.schema !== filters.schema) continue;
      if (filters.contexts !== undefined && !filters.contexts.every((uri) => event.contexts.includes(uri))) continue;
      matches.push(event);
    }
    return matches;
  }

  bad(limit = Infinity): BadEvent[] {
    return this.#bad.slice(Math.max(0, this.#bad.length - limit)).reverse();
  }

  reset(): void {
    this.#good = [];
    this.#bad = [];
    this.#dropped = { good: 0, bad: 0 };
  }

  /** Appends; past the cap, drops the oldest. Returns how many were dropped. */
  #add<T>(list: T[], event: T): number {
    list.push(event);
    if (list.length <= this.maxEvents) return 0;
    list.shift();
    return 1;
  }
}
