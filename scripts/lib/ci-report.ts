import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { Node } from 'jsonc-parser';
import { describeIoError } from '../../plugin/iglu/walk-files.js';
import { UsageError, type CommandLine, type Output, type OptionSpec } from './cli.js';

/**
 * CI-native reports shared by `validate`, `lint:schemas` and `verify:schemas`: GitHub Actions annotations
 * (`--reporter github`) and a JUnit XML file (`--junit FILE`). A command turns each input into a
 * `CiCase` (one JUnit testcase; each failure an `::error` annotation), and this module writes them.
 */
export const CI_REPORT_OPTIONS: Record<string, OptionSpec> = {
  reporter: { type: 'string' },
  junit: { type: 'string' },
};

export const CI_REPORT_USAGE = `  --reporter <r>    text (default) or github: GitHub Actions ::error annotations (file=, line=) instead
                    of the text lines
  --junit <file>    also write a JUnit XML report: one testcase per input, a <failure> per failing one`;

export interface CiOptions {
  github: boolean;
  junit: string | null;
}

/** The reporter options of a command line; `--reporter github` replaces the text output, so it does not go with `--json`. */
export function ciOptionsOf(values: CommandLine['values']): CiOptions {
  const reporter = (values.reporter as string | undefined) ?? 'text';
  if (reporter !== 'text' && reporter !== 'github') throw new UsageError(`--reporter must be text or github, got ${reporter}`);
  if (reporter === 'github' && values.json === true) throw new UsageError('--reporter github and --json both print the report: choose one (--junit FILE goes with either)');
  const junit = values.junit as string | undefined;
  if (junit === '') throw new UsageError('--junit needs a file name');
  return { github: reporter === 'github', junit: junit ?? null };
}

export interface CiFailure {
  message: string;
  /** A short title (the annotation's `title=`, the JUnit failure's `type`). */
  title?: string;
  file?: string;
  line?: number;
  /** `warning` annotations are advice: printed, not failures. Default `error`. */
  level?: 'error' | 'warning';
}

export interface CiCase {
  /** The testcase's name (`file:line`, a file, a schema URI). */
  name: string;
  classname: string;
  /** What failed; empty for a passing input. Warnings are annotated only. */
  failures: CiFailure[];
  /** The input could not be read at all (JUnit `<error>` rather than `<failure>`). */
  error?: boolean;
}

/** GitHub's workflow-command escaping (actions/toolkit `command.ts`): the message. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** …and a property value, where `:` and `,` separate properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One `::error file=…,line=…,title=…::message` line. */
export function githubAnnotation(failure: CiFailure): string {
  const properties = [
    failure.file === undefined ? null : `file=${escapeProperty(failure.file)}`,
    failure.line === undefined || failure.line < 1 ? null : `line=${failure.line}`,
    failure.title === undefined ? null : `title=${escapeProperty(failure.title)}`,
  ].filter((p) => p !== null);
  return `::${failure.level ?? 'error'}${properties.length > 0 ? ` ${properties.join(',')}` : ''}::${escapeData(failure.message)}`;
}

/** Text for XML content and attribute values: escaped, and characters XML 1.0 cannot hold written as `\uXXXX`. */
export function xmlText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * A command's CI reports. Testcases stream to a side file as they come (memory stays flat on a million
 * inputs); `close()` writes the JUnit file whole, counts first, and moves it into place.
 */
export class CiReport {
  #cases = 0;
  #failures = 0;
  #errors = 0;
  readonly #started = Date.now();
  readonly #body: WriteStream | null;
  readonly #bodyFile: string | null;

  private constructor(
    private readonly suite: string,
    private readonly options: CiOptions,
    private readonly output: Output,
    body: WriteStream | null,
  ) {
    this.#body = body;
    this.#bodyFile = body === null ? null : String(body.path);
  }

  /** Opens the reports; a `--junit` file whose folder cannot be written fails here, before any work. */
  static async open(suite: string, options: CiOptions, output: Output): Promise<CiReport> {
    if (options.junit === null) return new CiReport(suite, options, output, null);
    const body = createWriteStream(`${options.junit}.${process.pid}.cases`);
    await new Promise<void>((resolve, reject) => {
      body.once('open', () => resolve());
      body.once('error', (error) => reject(new Error(`--junit ${options.junit}: cannot write the report: ${describeIoError(error)}`)));
    });
    return new CiReport(suite, options, output, body);
  }

  get github(): boolean {
    return this.options.github;
  }

  /** Whether any CI report was asked for (so a command can skip building testcases on its hot path). */
  get active(): boolean {
    return this.options.github || this.#body !== null;
  }

  async add(testcase: CiCase): Promise<void> {
    if (this.options.github) for (const failure of testcase.failures) await this.output.write(`${githubAnnotation(failure)}\n`);
    if (this.#body === null) return;
    const failures = testcase.failures.filter((f) => (f.level ?? 'error') === 'error');
    this.#cases++;
    if (failures.length > 0) testcase.error === true ? this.#errors++ : this.#failures++;
    const element = testcase.error === true ? 'error' : 'failure';
    const open = `    <testcase name="${xmlText(testcase.name)}" classname="${xmlText(testcase.classname)}"`;
    const text =
      failures.length === 0
        ? `${open}/>\n`
        : `${open}>\n      <${element} message="${xmlText(failures[0]!.message)}" type="${xmlText(failures[0]!.title ?? this.suite)}">${xmlText(failures.map(describeFailure).join('\n'))}</${element}>\n    </testcase>\n`;
    if (!this.#body.write(text)) await new Promise<void>((resolve) => this.#body!.once('drain', resolve));
  }

  /** Writes the JUnit file (when asked for). An unwritable file is an error naming it (the command exits 2). */
  async close(): Promise<void> {
    if (this.#body === null || this.#bodyFile === null || this.options.junit === null) return;
    this.#body.end();
    await finished(this.#body);
    const target = this.options.junit;
    const partial = `${target}.${process.pid}.partial`;
    const seconds = ((Date.now() - this.#started) / 1000).toFixed(3);
    const counts = `tests="${this.#cases}" failures="${this.#failures}" errors="${this.#errors}" time="${seconds}"`;
    try {
      const out = createWriteStream(partial);
      out.write(`<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xmlText(this.suite)}" ${counts}>\n  <testsuite name="${xmlText(this.suite)}" ${counts}>\n`);
      for await (const chunk of createReadStream(this.#bodyFile)) if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
      out.end('  </testsuite>\n</testsuites>\n');
      await finished(out);
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw new Error(`--junit ${target}: cannot write the report: ${(error as Error).message}`);
    } finally {
      await rm(this.#bodyFile, { force: true });
    }
  }
}

function describeFailure(f: CiFailure): string {
  const where = f.file === undefined ? '' : `${f.file}${f.line !== undefined && f.line > 0 ? `:${f.line}` : ''}: `;
  return `${where}${f.title === undefined ? '' : `[${f.title}] `}${f.message}`;
}

const LINES_CACHE_SIZE = 64;
const trees = new Map<string, { text: string; tree: Node | undefined } | null>();

/**
 * The line of a JSON Pointer in a JSON file (the property's key, for a property), or of its nearest
 * existing parent; `undefined` when the file cannot be read. Files are parsed once (a few kept).
 */
export async function lineOf(file: string, pointer: string): Promise<number | undefined> {
  let parsed = trees.get(file);
  if (parsed === undefined) {
    const { parseTree } = await import('jsonc-parser'); // loaded only when a report places a failure (the commands start faster)
    parsed = await readFile(file, 'utf8').then(
      (text) => ({ text, tree: parseTree(text) }),
      () => null,
    );
    if (trees.size >= LINES_CACHE_SIZE) trees.delete(trees.keys().next().value!);
    trees.set(file, parsed);
  }
  if (parsed === null || parsed.tree === undefined) return parsed === null ? undefined : 1;
  let node: Node = parsed.tree;
  let at = node.offset;
  for (const segment of pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    const child = childOf(node, segment);
    if (child === undefined) break;
    at = child.parent?.type === 'property' ? child.parent.offset : child.offset;
    node = child;
  }
  let line = 1;
  for (let i = parsed.text.indexOf('\n'); i !== -1 && i < at; i = parsed.text.indexOf('\n', i + 1)) line++;
  return line;
}

function childOf(node: Node, segment: string): Node | undefined {
  if (node.type === 'object') return node.children?.find((p) => p.children?.[0]?.value === segment)?.children?.[1];
  if (node.type === 'array' && /^\d+$/.test(segment)) return node.children?.[Number(segment)];
  return undefined;
}
