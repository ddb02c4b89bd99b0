import { isShreddedColumn } from './enriched-event.js';
import type { EventRow, GoodEvent } from './events.js';

/** Micro's filters for `POST /micro/good`. */
export interface GoodEventFilters {
  event_type?: string;
  schema?: string;
  /** Every one of these entity schemas must be attached. */
  contexts?: string[];
  limit?: number;
}

/** Micro's filters for `POST /micro/bad`: the collector path's vendor and version (e.g. `com.snowplowanalytics.snowplow`, `tp2`). */
export interface BadEventFilters {
  vendor?: string;
  version?: string;
  limit?: number;
}

/** The tracking path an event came in on, as Snowplow's collector payload names it (`api`). */
export interface TrackerApi {
  vendor: string;
  version: string;
}

/** What the store holds and may hold. */
export interface CacheUsage {
  events: number;
  /** Characters of stored JSON, each event's Micro JSON and its row (about what the events take in memory). */
  bytes: number;
  maxEvents: number;
  maxBytes: number;
  dropped: { good: number; bad: number };
}

/** One stored event: its JSON, made once when it arrives, and what the filters read. */
interface Stored extends StoredEvent {
  eventType: string | null;
  schema: string | null;
  contexts: readonly string[];
  api: TrackerApi | null;
  /** What the event takes in `maxBytes`: its JSON and its row. */
  size: number;
}

/** What `/micro/events`, the timeline and the sessions view read of a stored event. */
export interface StoredEvent {
  /** Arrival order (also evicts the oldest of both kinds first). */
  readonly seq: number;
  readonly valid: boolean;
  /** `collector_tstamp` in ms. */
  readonly time: number;
  /** The Analytics SDK JSON without nulls. */
  readonly row: EventRow;
  /** The JSON `/micro/good` or `/micro/bad` answers for it. */
  readonly json: string;
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
  /** How many stored rows have each shredded column. */
  readonly #columns = new Map<string, number>();
  #dropped = { good: 0, bad: 0 };

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {}

  /** Stores a good event as `json` (its `JSON.stringify`, made by the caller) and its row (`rowSize`: the characters of its JSON). */
  addGood(event: GoodEvent, json: string, row: EventRow, rowSize: number): void {
    const { eventType, schema, contexts } = event;
    this.#add(this.#good, 'good', { json, eventType, schema, contexts, api: null, ...this.#entry(true, row, json.length + rowSize) });
  }

  /** Stores a bad event as `json`, its row (`rowSize`: the characters of its JSON) and the path it came in on. */
  addBad(json: string, row: EventRow, rowSize: number, api: TrackerApi | null): void {
    this.#add(this.#bad, 'bad', { json, eventType: null, schema: null, contexts: [], api, ...this.#entry(false, row, json.length + rowSize) });
  }

  /**
   * Good, bad or both kinds (`valid` null), newest first: both lists are in arrival order, so they are
   * merged by it without a sort.
   */
  *events(valid: boolean | null = null): Generator<StoredEvent> {
    const good = valid === false ? [][Symbol.iterator]() : this.#good.newestFirst();
    const bad = valid === true ? [][Symbol.iterator]() : this.#bad.newestFirst();
    let g = good.next();
    let b = bad.next();
    while (!g.done || !b.done) {
      if (b.done || (!g.done && g.value.seq > b.value.seq)) {
        yield g.value as Stored;
        g = good.next();
      } else {
        yield b.value as Stored;
        b = bad.next();
      }
    }
  }

  /** The entity and event columns of the stored rows (`contexts_…`, `unstruct_event_…`), sorted. */
  shreddedColumns(): string[] {
    return [...this.#columns.keys()].sort();
  }

  #entry(valid: boolean, row: EventRow, size: number) {
    const time = Date.parse(String(row.collector_tstamp));
    for (const key of Object.keys(row)) if (isShreddedColumn(key)) this.#columns.set(key, (this.#columns.get(key) ?? 0) + 1);
    return { seq: this.#seq++, valid, row, time: Number.isNaN(time) ? 0 : time, size };
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

  /** The JSON of the bad events that match, newest first (an event without a path passes the path filters, as in Micro). */
  *bad(filters: BadEventFilters = {}): Generator<string> {
    let left = filters.limit ?? Infinity;
    for (const event of this.#bad.newestFirst()) {
      if (left <= 0) return;
      if (filters.vendor !== undefined && event.api !== null && event.api.vendor !== filters.vendor) continue;
      if (filters.version !== undefined && event.api !== null && event.api.version !== filters.version) continue;
      left--;
      yield event.json;
    }
  }

  reset(): void {
    while (this.#good.shift() !== undefined);
    while (this.#bad.shift() !== undefined);
    this.#bytes = 0;
    this.#columns.clear();
    this.#dropped = { good: 0, bad: 0 };
  }

  #add(list: Deque<Stored>, kind: 'good' | 'bad', event: Stored): void {
    list.push(event);
    this.#bytes += event.size;
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
    this.#bytes -= gone.size;
    for (const key of Object.keys(gone.row)) {
      if (!isShreddedColumn(key)) continue;
      const left = (this.#columns.get(key) ?? 0) - 1;
      if (left > 0) this.#columns.set(key, left);
      else this.#columns.delete(key);
    }
    this.#dropped[kind]++;
  }
}
