import { stat } from 'node:fs/promises';

/** Inputs larger than this get a progress line (on a terminal only). */
const LARGE_INPUT_BYTES = 64 * 1024 * 1024;

/** A progress line on stderr, redrawn every second, when stderr is a TTY and the input is large. */
export class Progress {
  #bytes = 0;
  #items = 0;
  #total = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly inputs: string[]) {}

  async start(): Promise<void> {
    if (!process.stderr.isTTY) return;
    for (const input of this.inputs) this.#total += input === '-' ? 0 : await stat(input).then((s) => (s.isFile() ? s.size : 0), () => 0);
    if (this.#total < LARGE_INPUT_BYTES && !this.inputs.includes('-')) return;
    this.#timer = setInterval(() => this.#draw(), 1000);
    this.#timer.unref();
  }

  readonly add = (bytes: number): void => {
    this.#bytes += bytes;
  };

  count(): void {
    this.#items++;
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    process.stderr.write('\r\x1b[K');
  }

  #draw(): void {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
    const of = this.#total > 0 ? ` of ${mb(this.#total)} MB (${Math.floor((this.#bytes / this.#total) * 100)}%)` : '';
    process.stderr.write(`\r\x1b[K${this.#items} instances, ${mb(this.#bytes)} MB${of}`);
  }
}
