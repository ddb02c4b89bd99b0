import type { BadEvent, GoodEvent } from './events.js';

/** Micro's filters for `POST /micro/good`. */
export interface GoodEventFilters {
  event_type?: string;
  schema?: string;
  /** Every one of these entity schemas must be attached. */
  contexts?: string[];
  limit?: number;
}

/** What the store holds and may hold. */
export interface CacheUsage {
  events: number;
  /** Characters of stored JSON (what the events take in memory, to within V8's string encoding). */
  bytes: number;
  maxEvents: number;
  maxBytes: number;
  dropped: { good: number; bad: number };
}

/** One stored event: its JSON, made once when it arrives, and what the filters read. */
interface Stored {
  json: string;
  /** Arrival order, to evict the oldest of both kinds first. */
  seq: number;
  eventType: string | null;
  schema: string | null;
  contexts: readonly string[];
}

/** A queue with O(1) append and O(1) removal of the oldest (a head index; the array is compacted now and then). */
class Deque<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  oldest(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head]!;
    (this.#items as Array<T | undefined>)[this.#head++] = undefined; // let it be collected now
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head); // amortized: each item is moved at most once per halving
      this.#head = 0;
    }
    return item;
  }

  /** Newest first. */
  *newestFirst(): Generator<T> {
    for (let i = this.#items.length - 1; i >= this.#head; i--) yield this.#items[i]!;
  }
}

/**
 * The good and bad events, kept in memory like Micro's cache, as the JSON each is answered with (so no
 * stored event can break a response). At most `maxEvents` of each kind and `maxBytes` of JSON in all are
 * kept; past either, the oldest go first (in O(1)) and are counted. Reads are newest first, as Micro answers.
 */
export class EventCache {
  readonly #good = new Deque<Stored>();
  readonly #bad = new Deque<Stored>();
  #bytes = 0;
  #seq = 0;
  #dropped = { good: 0, bad: 0 };

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {}

  /** Stores a good event as `json` (its `JSON.stringify`, made by the caller). */
  addGood(event: GoodEvent, json: string): void {
    this.#add(this.#good, 'good', { json, seq: this.#seq++, eventType: event.eventType, schema: event.schema, contexts: event.contexts });
  }

  addBad(_event: BadEvent, json: string): void {
    this.#add(this.#bad, 'bad', { json, seq: this.#seq++, eventType: null, schema: null, contexts: [] });
  }

  counts(): { total: number; good: number; bad: number } {
    return { total: this.#good.length + this.#bad.length, good: this.#good.length, bad: this.#bad.length };
  }

  dropped(): { good: number; bad: number } {
    return { ...this.#dropped };
  }

  usage(): CacheUsage {
    return { events: this.#good.length + this.#bad.length, bytes: this.#bytes, maxEvents: this.maxEvents, maxBytes: this.maxBytes, dropped: this.dropped() };
  }

  /** The JSON of the good events that match, newest first. */
  *good(filters: GoodEventFilters = {}): Generator<string> {
    let left = filters.limit ?? Infinity;
    for (const event of this.#good.newestFirst()) {
      if (left <= 0) return;
      if (filters.event_type !== undefined && event.eventType !== filters.event_type) continue;
      if (filters.schema !== undefined && event.schema !== filters.schema) continue;
      if (filters.contexts !== undefined && !filters.contexts.every((uri) => event.contexts.includes(uri))) continue;
      left--;
      yield event.json;
    }
  }

  *bad(limit = Infinity): Generator<string> {
    let left = limit;
    for (const event of this.#bad.newestFirst()) {
      if (left-- <= 0) return;
      yield event.json;
    }
  }

  reset(): void {
    while (this.#good.shift() !== undefined);
    while (this.#bad.shift() !== undefined);
    this.#bytes = 0;
    this.#dropped = { good: 0, bad: 0 };
  }

  #add(list: Deque<Stored>, kind: 'good' | 'bad', event: Stored): void {
    list.push(event);
    this.#bytes += event.json.length;
    if (list.length > this.maxEvents) this.#evict(list, kind);
    while (this.#bytes > this.maxBytes && this.counts().total > 1) this.#evictOldest();
  }

  #evictOldest(): void {
    const good = this.#good.oldest();
    const bad = this.#bad.oldest();
    if (bad === undefined || (good !== undefined && good.seq < bad.seq)) this.#evict(this.#good, 'good');
    else this.#evict(this.#bad, 'bad');
  }

  #evict(list: Deque<Stored>, kind: 'good' | 'bad'): void {
    const gone = list.shift();
    if (gone === undefined) return;
    this.#bytes -= gone.json.length;
    this.#dropped[kind]++;
  }
}
