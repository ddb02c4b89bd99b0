import type { Writable } from 'node:stream';
import { enrichedTsv, fullAnalyticsJson } from './enriched-event.js';
import type { ProcessedEvent } from './events.js';

/** Micro's `--output-json` (Analytics SDK JSON) and `--output-tsv` (enriched TSV). */
export type OutputFormat = 'json' | 'tsv';

/** Output not yet taken by a slow reader (a pipe nobody drains) that is kept at most; beyond it lines are dropped and counted. */
export const MAX_BUFFERED_OUTPUT = 64 * 1024 * 1024;

/**
 * Prints each good event to `out` as it arrives, one line each, as Micro does with `-j`/`-t`, and each
 * bad event's bad row (schema_violations JSON) to `err`. A reader that falls more than
 * `MAX_BUFFERED_OUTPUT` behind loses lines rather than the collector's memory; the loss is reported on `err`.
 */
export class EventPrinter {
  #dropped = 0;

  constructor(
    private readonly format: OutputFormat,
    private readonly out: Writable,
    private readonly err: Writable,
  ) {}

  print(event: ProcessedEvent): void {
    if ('good' in event) this.#write(this.out, this.format === 'json' ? JSON.stringify(fullAnalyticsJson(event.row)) : enrichedTsv(event.good.event));
    else this.#write(this.err, event.bad.errors[1] ?? JSON.stringify(event.bad.errors));
  }

  #write(stream: Writable, line: string): void {
    if (stream.writableLength > MAX_BUFFERED_OUTPUT) {
      this.#dropped++;
      return;
    }
    if (this.#dropped > 0 && this.err.writableLength <= MAX_BUFFERED_OUTPUT) {
      this.err.write(`snowplow-client-session collector: ${this.#dropped} output lines dropped: the reader of the output fell more than ${MAX_BUFFERED_OUTPUT} bytes behind\n`);
      this.#dropped = 0;
    }
    stream.write(`${line}\n`);
  }
}
