import { createReadStream } from 'node:fs';
import { constants, open, readFile, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import type { SessionState } from '../session/state.js';
import type { Reservation } from './reservation-journal.js';

/** Marks a session document as this package's. */
export const DOCUMENT_FORMAT = 'snowplow-client-session';

/** The document in memory: keyed sessions in a Map (iterated while written, without a copy). */
export interface SessionFile {
  version: 1;
  session: SessionState | null;
  sessions: Map<string, SessionState>;
  /** Event-index reservations folded in from the journal, by key (`''` = the default session). */
  reserved: Record<string, Reservation>;
}

/** A file that is not a session document of this package: it is never written over. */
export class SessionStoreForeignFileError extends Error {
  readonly file: string;

  constructor(file: string, what: string, store = 'LowdbSessionStore') {
    super(
      `snowplow-client-session: ${file} is not a session file of this package (${what}); it is left untouched. ` +
        `Point ${store}({ file }) at a new path, or move that file away.`,
    );
    this.name = 'SessionStoreForeignFileError';
    this.file = file;
  }
}

/** A session document of this package that cannot be used: moved aside by the store. */
export class CorruptDocumentError extends Error {
  constructor(
    readonly problem: string,
    readonly text: string,
  ) {
    super(problem);
  }
}

/** Bytes of records per write call (and per event-loop turn) while a document is written. */
const WRITE_CHUNK = 256 * 1024;
const TOP_LEVEL = new Set(['version', 'format', 'session', 'sessions', 'reserved']);

/**
 * lowdb's adapter for the session document. The document is JSON laid out one keyed session per line:
 * a header line (version, format, the default session, reservations), then `"<key>":{…}` lines, then
 * `}}`. It is read as a stream of lines and written in chunks, so a store of a million keys neither holds
 * its whole text in memory nor blocks the event loop. Each write goes to a new temp file beside the target
 * (`O_EXCL | O_NOFOLLOW`, mode 0600), is flushed to disk, and is renamed over the target: a crash leaves
 * the old document or the new one. Documents in any other JSON layout (older versions, edited by hand) are
 * read whole.
 */
export class SessionDocumentFile implements Adapter<SessionFile> {
  /** Completed writes and their bytes, for `LowdbSessionStore.stats()`. */
  writes = 0;
  bytesWritten = 0;
  /** Size of the document last read or written. */
  bytes = 0;
  /** Whether the document last read was in this layout (else the next write converts it). */
  lineLayout = true;

  constructor(
    readonly file: string,
    private readonly beforeCommit: () => Promise<void> = async () => undefined,
    private readonly tempToken: () => string = () => randomBytes(6).toString('hex'),
  ) {}

  /** The document, or null when the file is missing or empty; throws for a foreign or corrupt file. */
  async read(): Promise<SessionFile | null> {
    const head = await readHead(this.file);
    if (head === null || head.trim() === '') return null;
    const header = HEADER.exec(head);
    if (header !== null) return this.#readLines();
    this.lineLayout = false;
    const text = await readFile(this.file, 'utf8');
    this.bytes = Buffer.byteLength(text);
    return classifyWhole(this.file, text);
  }

  /** Throws `SessionStoreForeignFileError` for a file that is not a session document of this package (read before anything is written). */
  async checkOwnership(): Promise<void> {
    const head = await readHead(this.file);
    if (head === null || head.trim() === '' || HEADER.test(head)) return;
    try {
      classifyWhole(this.file, await readFile(this.file, 'utf8'));
    } catch (error) {
      if (!(error instanceof CorruptDocumentError)) throw error;
    }
  }

  /** The line layout, a chunk at a time: the complete record lines of each chunk are parsed as one JSON object. */
  async #readLines(): Promise<SessionFile> {
    const data = emptyDocument();
    const state = { header: null as string | null, ended: false, line: 1 };
    let buffer = '';
    let bytes = 0;
    for await (const chunk of createReadStream(this.file, { encoding: 'utf8', highWaterMark: 1 << 20 }) as AsyncIterable<string>) {
      bytes += chunk.length;
      buffer += chunk;
      if (state.header === null) {
        const end = buffer.indexOf('\n');
        if (end === -1) continue;
        state.header = buffer.slice(0, end);
        Object.assign(data, readHeader(state.header));
        buffer = buffer.slice(end + 1);
      }
      const last = buffer.lastIndexOf('\n');
      if (last === -1) continue;
      readRecordLines(buffer.slice(0, last), data.sessions, state);
      buffer = buffer.slice(last + 1);
    }
    if (state.header === null) throw new CorruptDocumentError('it holds no complete header line', buffer);
    readRecordLines(buffer, data.sessions, state);
    if (!state.ended) throw new CorruptDocumentError(`it ends at line ${state.line}, before the end of the document (cut short)`, state.header);
    this.lineLayout = true;
    this.bytes = bytes;
    return data;
  }

  async write(data: SessionFile): Promise<void> {
    const temp = tempPathFor(this.file, this.tempToken());
    // O_EXCL: never through a link planted at the temp path; O_NOFOLLOW for the same reason.
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let bytes = 0;
    try {
      const put = async (text: string) => {
        bytes += Buffer.byteLength(text);
        await handle.write(text);
      };
      const header = { version: 1, format: DOCUMENT_FORMAT, session: data.session, reserved: data.reserved };
      await put(`${JSON.stringify(header).slice(0, -1)},"sessions":{`);
      let chunk = '';
      let first = true;
      for (const [key, session] of data.sessions) {
        chunk += `${first ? '' : ','}\n${JSON.stringify(key)}:${JSON.stringify(session)}`;
        first = false;
        if (chunk.length >= WRITE_CHUNK) {
          await put(chunk);
          chunk = '';
        }
      }
      await put(`${chunk}\n}}\n`);
      await handle.datasync(); // without it a power loss after the rename can leave an empty file
      await handle.close();
      await this.beforeCommit();
      await rename(temp, this.file);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
    this.writes++;
    this.bytesWritten += bytes;
    this.bytes = bytes;
    this.lineLayout = true;
  }
}

/** The temp file a write goes to first: hidden, beside the target, named by an unguessable token. */
export function tempPathFor(file: string, token: string): string {
  return join(dirname(file), `.${basename(file)}.${token}.tmp`);
}

export function emptyDocument(): SessionFile {
  return { version: 1, session: null, sessions: new Map(), reserved: Object.create(null) as Record<string, Reservation> };
}

const HEADER = /^\{"version":1,"format":"snowplow-client-session"/;

async function readHead(file: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } finally {
    await handle.close();
  }
}

function readHeader(line: string): Pick<SessionFile, 'session' | 'reserved'> {
  if (!line.endsWith('"sessions":{')) throw new CorruptDocumentError('its first line is not a complete header', line);
  let parsed: unknown;
  try {
    parsed = JSON.parse(`${line}}}`);
  } catch (error) {
    throw new CorruptDocumentError(`its header is not valid JSON (${(error as Error).message})`, line);
  }
  const problem = shapeProblem(parsed as Record<string, unknown>);
  if (problem !== null) throw new CorruptDocumentError(problem, line);
  const record = parsed as Partial<Record<'session' | 'reserved', unknown>>;
  return { session: (record.session ?? null) as SessionState | null, reserved: readReserved(record.reserved) };
}

/** Complete `"key":{…},` lines (and the closing `}}` line), parsed as one object. */
function readRecordLines(text: string, sessions: Map<string, SessionState>, state: { header: string | null; ended: boolean; line: number }): void {
  if (text === '') return;
  const firstLine = state.line + 1;
  state.line += countLines(text);
  if (state.ended) throw new CorruptDocumentError(`line ${firstLine} follows the end of the document`, state.header ?? '');
  let body = text;
  if (body === '}}' || body.endsWith('\n}}')) {
    state.ended = true;
    body = body.slice(0, -2);
  }
  body = body.trimEnd();
  if (body.endsWith(',')) body = body.slice(0, -1);
  if (body === '') return;
  let entries: Record<string, SessionState>;
  try {
    entries = JSON.parse(`{${body}}`) as Record<string, SessionState>;
  } catch (error) {
    throw new CorruptDocumentError(`lines ${firstLine}-${state.line} are not "key":{session} lines (${(error as Error).message})`, state.header ?? '');
  }
  for (const key in entries) sessions.set(key, entries[key]!);
}

function countLines(text: string): number {
  let lines = 1;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}

/** A document in another layout: this package's (any JSON layout), corrupt but recognizably ours, or foreign. */
function classifyWhole(file: string, text: string): SessionFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (/^\s*\{\s*"version"\s*:\s*1\s*,/.test(text) || text.includes(`"format":"${DOCUMENT_FORMAT}"`)) {
      throw new CorruptDocumentError(`it is not valid JSON (${(error as Error).message})`, text);
    }
    throw new SessionStoreForeignFileError(file, 'not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SessionStoreForeignFileError(file, 'not a JSON object');
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record);
  const ours = record.version === 1 && ('sessions' in record || 'session' in record) && keys.every((key) => TOP_LEVEL.has(key));
  if (!ours) throw new SessionStoreForeignFileError(file, `a JSON object with ${keys.length === 0 ? 'no keys' : `keys ${keys.slice(0, 5).join(', ')}`}`);
  const problem = shapeProblem(record);
  if (problem !== null) throw new CorruptDocumentError(problem, text);
  const data = emptyDocument();
  data.session = (record.session ?? null) as SessionState | null;
  data.reserved = readReserved(record.reserved);
  const sessions = (record.sessions ?? {}) as Record<string, SessionState>;
  for (const key of Object.keys(sessions)) data.sessions.set(key, sessions[key]!);
  return data;
}

function shapeProblem(record: Record<string, unknown>): string | null {
  for (const field of ['session', 'sessions', 'reserved']) {
    const value = record[field];
    if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) return `"${field}" is not an object`;
  }
  return null;
}

function readReserved(value: unknown): Record<string, Reservation> {
  const reserved = Object.create(null) as Record<string, Reservation>;
  for (const [key, entry] of Object.entries((value ?? {}) as Record<string, Partial<Reservation>>)) {
    if (typeof entry?.sessionId === 'string' && Number.isSafeInteger(entry.upTo)) reserved[key] = { sessionId: entry.sessionId, upTo: entry.upTo! };
  }
  return reserved;
}
