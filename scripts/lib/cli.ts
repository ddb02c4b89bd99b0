import { stat } from 'node:fs/promises';
import { describeIoError } from '../../plugin/iglu/walk-files.js';
import { parseArgs } from 'node:util';

/** Exit codes shared by every command: 0 all good, 1 something invalid, 2 usage or I/O error. */
export const EXIT = { ok: 0, invalid: 1, error: 2 } as const;

/** A mistake in how the command was called: printed with the usage text, exit 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
}

export interface CommandLine {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** `--help` asked for: `runCommand` prints the usage on stdout (exit 0). */
class HelpRequested extends Error {}

/**
 * `util.parseArgs` in strict mode, with its complaints turned into usage errors. Every command takes
 * `-h/--help`; `positionals.most` is how many arguments it takes (`noun` says what the one is), unbounded
 * when not given.
 */
export function parseCommandLine(argv: string[], options: Record<string, OptionSpec>, positionals?: { most: 0 | 1; noun?: string }): CommandLine {
  let line: CommandLine;
  try {
    line = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }) as CommandLine;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (line.values.help === true) throw new HelpRequested();
  const given = line.positionals.length;
  if (positionals?.most === 0 && given > 0) throw new UsageError(`unexpected argument ${line.positionals[0]}`);
  if (positionals?.most === 1 && given > 1) throw new UsageError(`one ${positionals.noun ?? 'argument'} at a time, got ${given}`);
  return line;
}

/**
 * Runs a command's main function: its result is the exit code; a usage error prints the usage (exit 2);
 * any other error prints one line, never a stack trace (exit 2).
 */
export function runCommand(name: string, usage: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof HelpRequested) {
        process.stdout.write(`${usage}\n`);
        process.exitCode = EXIT.ok;
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(error instanceof UsageError ? `${name}: ${message}\n\n${usage}\n` : `${name}: ${message}\n`);
      process.exitCode = EXIT.error;
    },
  );
}

/**
 * Buffered stdout that waits when the pipe is full (memory stays flat on huge outputs) and stops quietly
 * when the reader goes away (`| head`).
 */
export class Output {
  #buffer: string[] = [];
  #size = 0;
  #closed = false;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.#closed = true;
      else throw error;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  async write(text: string): Promise<void> {
    this.append(text);
    await this.flushIfFull();
  }

  /** Buffers `text` without waiting: a loop appends a batch's lines, then awaits `flushIfFull()` once. */
  append(text: string): void {
    this.#buffer.push(text);
    this.#size += text.length;
  }

  /** Writes the buffer out once it holds 64 KiB or more, waiting if the pipe is full. */
  async flushIfFull(): Promise<void> {
    if (this.#size >= 64 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const text = this.#buffer.join('');
    this.#buffer = [];
    this.#size = 0;
    if (this.#closed) return;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }
}

/** Each path given to `option` must be a readable folder: else exit 2, naming it. */
export async function checkFolders(option: string, paths: string[]): Promise<void> {
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      throw new Error(`${option} ${path}: ${describeIoError(error)}`);
    });
    if (!info.isDirectory()) throw new Error(`${option} ${path}: not a folder (a static Iglu repository: <vendor>/<name>/jsonschema/<M-R-A>)`);
  }
}
