/**
 * What the collector does with what trackers send: a tp2 batch or a pixel's payload becomes good events and
 * bad rows (validated as Enrich would), each stored as the JSON it is answered with, printed for `-j`/`-t`,
 * and offered to the waits in flight.
 */
import type { IgluValidator, ValidationIssue } from '../iglu/index.js';
import { parseIgluUri } from '../iglu/schema-key.js';
import { PAYLOAD_DATA_PREFIX, PAYLOAD_DATA_SCHEMA } from '../schema-uris.js';
import { isShreddedColumn } from './enriched-event.js';
import type { EventCache, TrackerApi } from './event-cache.js';
import type { EventPrinter } from './event-output.js';
import { badRequest, processPayload, type EnrichRules, type ProcessedEvent, type RequestInfo } from './events.js';
import { FAILURE_COLUMN } from './failure-entity.js';

/** Payloads of one batch validated between two turns of the event loop. */
const YIELD_EVERY = 1000;

export interface IntakeParts {
  validator: IgluValidator;
  cache: EventCache;
  rules: EnrichRules;
  /** `-j`/`-t` output, if asked for. */
  printer: EventPrinter | null;
  /** A good event was stored. */
  onGood: () => void;
}

export class EventIntake {
  constructor(private readonly parts: IntakeParts) {}

  /** A tp2 body: every payload becomes a good or bad event; a body that holds no payloads becomes one bad event. */
  async batch(body: string, request: RequestInfo): Promise<void> {
    const { validator, rules } = this.parts;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return this.#record(badRequest(request, [issue('/body', 'json', `not valid JSON (${(error as Error).message})`)], validator));
    }
    const schema = (parsed as { schema?: unknown } | null)?.schema;
    if (typeof schema !== 'string' || !schema.startsWith(PAYLOAD_DATA_PREFIX) || parseIgluUri(schema) === null) {
      return this.#record(badRequest(request, [issue('/schema', 'iglu', `not self-describing JSON with a payload_data schema (found ${JSON.stringify(schema) ?? 'none'})`)], validator));
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length === 0) {
      return this.#record(badRequest(request, validator.validateData(schema, data).errors, validator));
    }
    // Schemas from HTTP registries are loaded first (settle); without registries this is synchronous work.
    for (let i = 0; i < data.length; i++) {
      this.#record(await validator.settle(() => processPayload(data[i], schema, request, validator, rules)), request);
      // A huge batch (a 1 MiB body of `{}` is 300k payloads) must not hold up other requests meanwhile.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** One payload from a query string (`GET /i`). */
  async pixel(payload: Record<string, string>, request: RequestInfo): Promise<void> {
    const { validator, rules } = this.parts;
    this.#record(await validator.settle(() => processPayload(payload, PAYLOAD_DATA_SCHEMA, request, validator, rules)), request);
  }

  /**
   * Stores an event as the JSON it is answered with; a good event that cannot be written as JSON becomes a
   * bad row, and a row that cannot keeps only its atomic fields and failures.
   */
  #record(result: ProcessedEvent, request?: RequestInfo): void {
    const { cache, validator, printer } = this.parts;
    if ('good' in result) {
      const good = jsonText(() => JSON.stringify(result.good));
      if ('reason' in good) {
        if (request !== undefined) this.#record(badRequest(request, [issue('/body', 'depth', `the event cannot be stored: ${good.reason}`)], validator));
        return;
      }
      // The row holds the event's own values (shredded): what could be written once can be again.
      cache.addGood(result.good, good.value, result.row, rowChars(result.row));
      this.parts.onGood();
    } else {
      // A bad row holds strings only: it can always be written, unless it is past what a string may hold.
      const bad = jsonText(() => JSON.stringify(result.bad));
      if ('reason' in bad) return;
      let row = jsonText(() => JSON.stringify(result.row));
      if ('reason' in row) {
        result.row = writableRow(result.row);
        row = { value: JSON.stringify(result.row) };
      }
      cache.addBad(bad.value, result.row, row.value.length, result.bad.collectorPayload.api as TrackerApi);
    }
    printer?.print(result);
  }
}

function issue(path: string, keyword: string, message: string): ValidationIssue {
  return { path, keyword, message, schema: null };
}

/**
 * About the characters of a good event's row as JSON, without writing it: its atomic values (strings,
 * numbers) and, for its entity and event columns, a share of the event's JSON that holds the same data.
 */
function rowChars(row: Record<string, unknown>): number {
  let chars = 2;
  for (const [key, value] of Object.entries(row)) chars += key.length + 4 + (typeof value === 'string' ? value.length : typeof value === 'object' ? 256 : 12);
  return chars;
}

/** A row without its entity and event columns (the deep or huge part), but for its failures. */
function writableRow(row: Record<string, unknown>): Record<string, unknown> {
  const keep = ([key, value]: [string, unknown]) => !isShreddedColumn(key) || (key === FAILURE_COLUMN && 'value' in jsonText(() => JSON.stringify(value)));
  return Object.fromEntries(Object.entries(row).filter(keep));
}

/** JSON made by `write`, or why it cannot be (nested too deep, or larger than a string may be). */
function jsonText<T>(write: () => T): { value: T } | { reason: string } {
  try {
    return { value: write() };
  } catch (error) {
    return { reason: error instanceof RangeError && /call stack/i.test(error.message) ? 'too deep' : `too large (${(error as Error).message})` };
  }
}
