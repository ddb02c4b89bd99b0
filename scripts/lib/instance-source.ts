import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parseJsonExact } from '../../plugin/iglu/exact-json.js';
import { describeIoError, walkFiles } from '../../plugin/iglu/walk-files.js';

export { describeIoError };

/**
 * One instance read from the input, or why the item could not be read as one. An NDJSON line is `json`:
 * its text, for `IgluValidator.validateJson` to parse (the fast path); a document's instances are values.
 */
export type InputItem =
  | { kind: 'instance'; file: string; line: number; value: unknown }
  | { kind: 'json'; file: string; line: number; text: string }
  | { kind: 'unreadable'; file: string; line: number; keyword: 'json' | 'empty' | 'size' | 'depth'; message: string }
  | { kind: 'io'; file: string; line: number; message: string };

export type InputFormat = 'json' | 'ndjson';

export interface ReadOptions {
  /** Force a format; by default `.json` files are one document and everything else (and stdin) NDJSON. */
  format?: InputFormat;
  /** Called with each chunk's byte count, for progress. */
  onBytes?: (bytes: number) => void;
  /** The longest NDJSON line kept in memory; longer ones are reported and skipped. */
  maxLineBytes?: number;
}

const INSTANCE_FILES = new Set(['.json', '.ndjson', '.jsonl']);
/** Whole-document JSON is parsed in one piece; beyond this, NDJSON is the way. */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;
const DEFAULT_MAX_LINE = 64 * 1024 * 1024;

/**
 * The files behind the inputs: files as given, folders walked (symbolic links followed, loops reported)
 * for .json/.ndjson/.jsonl, `-` for stdin.
 */
export async function* expandInputs(inputs: string[]): AsyncGenerator<{ file: string } | { io: string; file: string }> {
  for (const input of inputs) {
    if (input === '-') {
      yield { file: '-' };
      continue;
    }
    let info;
    try {
      info = await stat(input);
    } catch (error) {
      yield { file: input, io: describeIoError(error) };
      continue;
    }
    if (!info.isDirectory()) {
      yield { file: input };
      continue;
    }
    for await (const found of walkFiles(input)) {
      if ('error' in found) yield { file: found.file, io: found.error };
      else if (INSTANCE_FILES.has(extname(found.file).toLowerCase())) yield found;
    }
  }
}

/**
 * The instances of one file, in batches (one per chunk read) so that a million-line file costs a few
 * hundred awaits, not a million. A batch of NDJSON lines makes its items as it is iterated, so a chunk's
 * thousands of lines are not all held at once: iterate each batch before asking for the next. Never
 * throws: I/O failures and unparsable items are items too.
 */
export async function* readInstances(file: string, options: ReadOptions = {}): AsyncGenerator<Iterable<InputItem>> {
  const format = options.format ?? (file !== '-' && extname(file).toLowerCase() === '.json' ? 'json' : 'ndjson');
  try {
    if (format === 'json') yield await readDocument(file, options);
    else yield* readLines(file, options);
  } catch (error) {
    yield [{ kind: 'io', file, line: 0, message: describeIoError(error) }];
  }
}

async function readDocument(file: string, options: ReadOptions): Promise<InputItem[]> {
  const text = file === '-' ? await readStream(process.stdin, options) : await readWholeFile(file);
  options.onBytes?.(Buffer.byteLength(text));
  if (text.trim() === '') return [{ kind: 'unreadable', file, line: 1, keyword: 'empty', message: 'empty file: no JSON document' }];
  let value: unknown;
  try {
    value = parseJsonExact(text);
  } catch (error) {
    return [unparsable(file, 1, error)];
  }
  if (!Array.isArray(value)) return [{ kind: 'instance', file, line: lineOfFirstValue(text), value }];
  const lines = elementLines(text);
  return value.map((element, i) => ({ kind: 'instance', file, line: lines[i] ?? 1, value: element }));
}

/** Where the reading of an NDJSON input is: the last line number, and what has been seen. */
interface LineState {
  file: string;
  line: number;
  /** Inside a line that was too long (its rest is skipped). */
  skipping: boolean;
  sawContent: boolean;
}

async function* readLines(file: string, options: ReadOptions): AsyncGenerator<Iterable<InputItem>> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  const stream = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1024 * 1024 });
  // Bytes in, decoded here: their count comes free (Buffer.byteLength of each decoded chunk would scan it again).
  const decoder = new StringDecoder('utf8');
  const state: LineState = { file, line: 0, skipping: false, sawContent: false };
  let pending = '';
  for await (const bytes of stream as AsyncIterable<Buffer>) {
    options.onBytes?.(bytes.length);
    const chunk = decoder.write(bytes);
    const text = pending === '' ? chunk : pending + chunk;
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline !== -1) yield linesOf(text, lastNewline, state);
    pending = text.slice(lastNewline + 1);
    if (pending.length > maxLine) {
      if (!state.skipping) yield [{ kind: 'unreadable', file, line: state.line + 1, keyword: 'size', message: `line longer than ${maxLine} characters: skipped` }];
      state.skipping = true;
      state.sawContent = true;
      pending = '';
    }
  }
  pending += decoder.end();
  const last: InputItem[] = [];
  const item = state.skipping || pending === '' ? null : lineItem(pending, file, state.line + 1);
  if (item !== null) last.push(item);
  if (item === null && !state.sawContent) last.push({ kind: 'unreadable', file, line: 1, keyword: 'empty', message: 'empty input: no JSON instance' });
  if (last.length > 0) yield last;
}

/** The items of the lines of `text` up to the newline at `end`, made one at a time as they are asked for. */
function* linesOf(text: string, end: number, state: LineState): Generator<InputItem> {
  for (let start = 0; start <= end; ) {
    const newline = text.indexOf('\n', start);
    state.line++;
    if (state.skipping) state.skipping = false;
    else {
      const item = lineItem(text.slice(start, newline), state.file, state.line);
      if (item !== null) {
        state.sawContent = true;
        yield item;
      }
    }
    start = newline + 1;
  }
}

/** The item for one NDJSON line (its text: the validator parses it), or `null` for a blank line. */
function lineItem(raw: string, file: string, line: number): InputItem | null {
  const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw; // \r\n line ends
  if (text.charCodeAt(0) !== 123 && text.trim() === '') return null; // a line that starts with { is not blank
  return { kind: 'json', file, line, text };
}

/** Why a text did not parse: JSON so deeply nested that the parser ran out of stack is "too deep", not invalid. */
export function unparsable(file: string, line: number, error: unknown): InputItem & { kind: 'unreadable' } {
  if (error instanceof RangeError) return { kind: 'unreadable', file, line, keyword: 'depth', message: 'too deep: JSON nested too deeply to parse' };
  return { kind: 'unreadable', file, line, keyword: 'json', message: `invalid JSON: ${(error as Error).message}` };
}

async function readWholeFile(file: string): Promise<string> {
  const { size } = await stat(file);
  if (size > MAX_DOCUMENT_BYTES) {
    throw new Error(`${file} is ${size} bytes; JSON documents over ${MAX_DOCUMENT_BYTES} bytes are not read whole: use NDJSON (one instance per line)`);
  }
  return readFile(file, 'utf8');
}

async function readStream(stream: NodeJS.ReadableStream, options: ReadOptions): Promise<string> {
  const parts: string[] = [];
  let size = 0;
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    size += chunk.length;
    if (size > MAX_DOCUMENT_BYTES) throw new Error(`standard input is over ${MAX_DOCUMENT_BYTES} bytes: use NDJSON (one instance per line)`);
    options.onBytes?.(0);
    parts.push(chunk);
  }
  return parts.join('');
}

/** 1-based line of each top-level array element's first character (JSON.parse gives no positions). */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (depth === 1 && expectValue && c !== ']') {
      lines.push(line);
      expectValue = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectValue = true;
  }
  return lines;
}

function lineOfFirstValue(text: string): number {
  const offset = text.search(/\S/);
  return offset <= 0 ? 1 : text.slice(0, offset).split('\n').length;
}

