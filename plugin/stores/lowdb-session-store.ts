import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readlink, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LOG } from '@snowplow/tracker-core';
import { Low } from 'lowdb';
import type { SessionState } from '../session/state.js';
import { ChangeLog, type Change } from './change-log.js';
import { FileLock, SessionStoreLockedError } from './file-lock.js';
import { ReservationJournal } from './reservation-journal.js';
import { CorruptDocumentError, emptyDocument, SessionDocumentFile, type SessionFile } from './session-document.js';
import { STORAGE_MECHANISMS, type SessionStore, type StorageMechanism } from './session-store.js';

/** Where `createClientSession()` keeps sessions when no store is given, relative to the working folder. */
export const DEFAULT_STORE_FILE = '.snowplow/client_session.json';

export type { SessionFile };

export interface LowdbSessionStoreOptions {
  /** The JSON file; its folder is created (mode 0700) when missing. A symbolic link is followed to its target. */
  file: string;
  /** Reported in the entity; default `LOCAL_STORAGE` (a local file is the closest of the schema's values). */
  storageMechanism?: StorageMechanism;
  /** Where warnings about the file go (a corrupt file moved aside). Default: tracker-core's logger. */
  logger?: { warn(message: string): void };
  /**
   * Ms after which the lock of a holder that cannot be checked (another machine or PID namespace, e.g. a
   * restarted container) counts as abandoned once its heartbeat stops; a new holder waits that long at most.
   * Default 15000; at least 1000.
   */
  lockStale?: number;
}

const DEFAULT_KEY = '';
/** How many reservations between checks of the journal's size. */
const COMPACTION_CHECK_EVERY = 1000;
/** A document smaller than this is rewritten whole on every write (it is cheap, and the file alone is the state). */
const WHOLE_WRITE_BYTES = 256 * 1024;
const USER_ID = /^(?:[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}|[0-9a-f]{16})$/;

/** The files of one store, beside the session document's real path. */
interface StoreFiles {
  path: string;
  db: Low<SessionFile>;
  document: SessionDocumentFile;
  changes: ChangeLog;
  journal: ReservationJournal;
  lock: FileLock;
}

/**
 * Sessions in a JSON file through lowdb. One process at a time holds the file (a lock names it). The file
 * is read once, then served from memory. A small document is rewritten (atomically) by each write; once it
 * passes 256 KiB, a write appends what changed to a change log, and the document is rewritten (atomically,
 * in chunks) only when the log outgrows it. All changes of one event-loop turn share
 * one write. Event-index reservations go to a small synchronous journal, so a killed process never makes
 * the next one repeat an `eventIndex`.
 */
export class LowdbSessionStore implements SessionStore {
  readonly storageMechanism: StorageMechanism;
  readonly access = 'startup';
  readonly file: string;
  readonly #logger: { warn(message: string): void };
  readonly #lockStale: number | undefined;
  #files: StoreFiles | undefined;
  #loaded: Promise<void> | undefined;
  #data: SessionFile = emptyDocument();
  readonly #dirtyKeys = new Set<string>();
  #defaultDirty = false;
  #reservedCleared = false;
  #compactionWanted = false;
  #compacting = false;
  #journalCompaction: { finish(): void } | null = null;
  #scheduledWrite: Promise<void> | undefined;
  #lastWrite: Promise<void> | undefined;
  #reservationsSinceCheck = 0;
  #reservations = 0;
  #appends = 0;

  constructor(options: LowdbSessionStoreOptions) {
    if (typeof options?.file !== 'string' || options.file.trim() === '') {
      throw new TypeError('snowplow-client-session: LowdbSessionStore option `file` must be a non-empty path string');
    }
    const mechanism = options.storageMechanism ?? 'LOCAL_STORAGE';
    if (!STORAGE_MECHANISMS.includes(mechanism)) {
      throw new RangeError(`snowplow-client-session: LowdbSessionStore option \`storageMechanism\` must be one of ${STORAGE_MECHANISMS.join(', ')}`);
    }
    if (options.lockStale !== undefined && !(Number.isFinite(options.lockStale) && options.lockStale >= 1000)) {
      throw new RangeError(`snowplow-client-session: LowdbSessionStore option \`lockStale\` must be a number of ms >= 1000; got ${String(options.lockStale)}`);
    }
    this.storageMechanism = mechanism;
    this.file = resolve(options.file);
    this.#logger = options.logger ?? LOG;
    this.#lockStale = options.lockStale;
  }

  async getSession(key?: string): Promise<SessionState | null> {
    await this.#load();
    return key === undefined ? this.#data.session : (this.#data.sessions.get(key) ?? null);
  }

  async getSessions(): Promise<Iterable<[string, SessionState]>> {
    await this.#load();
    return this.#data.sessions.entries();
  }

  async setSession(session: SessionState, key?: string): Promise<void> {
    await this.#load();
    if (key === undefined) this.#data.session = session;
    else this.#data.sessions.set(key, session);
    this.#markDirty(key);
    return this.#scheduleWrite();
  }

  async deleteSession(key?: string): Promise<void> {
    await this.#load();
    if (key === undefined) this.#data.session = null;
    else this.#data.sessions.delete(key);
    delete this.#data.reserved[key ?? DEFAULT_KEY];
    this.#markDirty(key);
    return this.#scheduleWrite();
  }

  /** Synchronously records that `sessionId` may use event indexes up to `upTo` (called from `track()`). */
  reserveEventIndex(sessionId: string, upTo: number, key?: string): void {
    const files = this.#files;
    if (files === undefined) throw new Error(`snowplow-client-session: the session file ${this.file} is not loaded yet`);
    const reservation = { sessionId, upTo };
    files.journal.append(key ?? DEFAULT_KEY, reservation);
    this.#reservations++;
    this.#data.reserved[key ?? DEFAULT_KEY] = reservation;
    if (++this.#reservationsSinceCheck >= COMPACTION_CHECK_EVERY) {
      this.#reservationsSinceCheck = 0;
      // Past a quarter of the document: folding the journal in costs a whole rewrite of the document.
      if (this.#journalCompaction === null && files.journal.isLarge(files.document.bytes / 4)) {
        // The next whole document holds every reservation made so far; once it lands the old journal can go.
        this.#journalCompaction = files.journal.beginCompaction();
        this.#compactionWanted = true;
        this.#scheduleWrite().catch(() => undefined);
      }
    }
  }

  /**
   * Rewrites the document whole now (atomically, in chunks), folding the change log into it; a store
   * does this by itself once the log outgrows the document. For quiet hours, or before a backup.
   */
  async compact(): Promise<void> {
    await this.#load();
    this.#compactionWanted = true;
    return this.#scheduleWrite();
  }

  /** What this store has written so far: whole-document writes and their bytes, change-log appends, journal appends. */
  stats(): { writes: number; bytesWritten: number; appends: number; reservations: number } {
    const document = this.#files?.document;
    return { writes: document?.writes ?? 0, bytesWritten: document?.bytesWritten ?? 0, appends: this.#appends, reservations: this.#reservations };
  }

  /** Keeps a copy of the document as it is now (`<file>.bad-<timestamp>`), e.g. before unusable records are replaced. */
  async keepCopy(): Promise<string | null> {
    await this.#load();
    const path = this.#files!.path;
    const copy = `${path}.bad-${Date.now()}`;
    try {
      await copyFile(path, copy, constants.COPYFILE_EXCL);
      return copy;
    } catch {
      return null;
    }
  }

  /**
   * Writes the exact indexes (no reservations left, so a clean restart continues without a gap), removes
   * the journal and releases the lock.
   */
  async close(): Promise<void> {
    if (this.#loaded === undefined) return;
    await this.#loaded;
    const files = this.#files!;
    if (Object.keys(this.#data.reserved).length > 0) {
      this.#data.reserved = emptyDocument().reserved;
      this.#reservedCleared = true;
      await this.#scheduleWrite();
    } else {
      await this.#lastWrite; // nothing to add: the last write already holds the exact indexes
    }
    if (files.lock.held) files.journal.clear();
    files.lock.release();
  }

  #markDirty(key: string | undefined): void {
    if (key === undefined) this.#defaultDirty = true;
    else this.#dirtyKeys.add(key);
  }

  #load(): Promise<void> {
    this.#loaded ??= this.#loadOnce().catch((error: unknown) => {
      this.#files?.lock.release();
      this.#files = undefined;
      this.#loaded = undefined; // a failure is retried by the next call (the plugin's writes retry with backoff)
      throw error;
    });
    return this.#loaded;
  }

  /**
   * Takes the lock (when the folder cannot be written, reads anyway and takes it at the first write), reads
   * the document and its change log, continues each session after its reservations.
   */
  async #loadOnce(): Promise<void> {
    const files = this.#openFiles(await followLinks(this.file));
    this.#files = files;
    await files.document.checkOwnership(); // before the lock: nothing is created beside a foreign file
    const locked = await this.#tryLock(files);
    const { data, movedAside } = await this.#readDocument(files, locked);
    files.db.data = data; // lowdb writes its `data`: one object with what this store serves
    this.#data = data;
    if (locked) await this.#removePlantedLinks(files);
    for await (const change of files.changes.read()) this.#apply(change);
    const reserved = this.#applyReservations(files);
    if (locked) await removeTempFiles(files.path);
    if (movedAside || reserved || !files.document.lineLayout) {
      // Save what was salvaged or folded in, in the current layout, then start a fresh journal.
      this.#compactionWanted ||= movedAside || !files.document.lineLayout;
      const write = this.#scheduleWrite();
      if (reserved) write.then(() => files.journal.clear(), () => undefined);
      write.catch(() => undefined); // retried by the plugin's next write
    }
  }

  #openFiles(path: string): StoreFiles {
    // Just before a compacted document replaces the old one, the changes made while it was written are logged.
    const document = new SessionDocumentFile(path, () => (this.#compacting ? this.#appendDirty(files) : Promise.resolve()));
    const files: StoreFiles = {
      path,
      document,
      db: new Low(document, emptyDocument()),
      changes: new ChangeLog(path),
      journal: new ReservationJournal(path),
      lock: new FileLock(path, {
        stale: this.#lockStale,
        onLost: (error) => this.#logger.warn(error.message),
      }),
    };
    return files;
  }

  /** The store's own side files are never symbolic links: one found at their paths is removed (not followed), with a warning. */
  async #removePlantedLinks(files: StoreFiles): Promise<void> {
    for (const path of [files.journal.path, files.journal.compactingPath, files.changes.path, files.changes.compactingPath]) {
      const link = await lstat(path).then((stats) => stats.isSymbolicLink(), () => false);
      if (!link) continue;
      await rm(path);
      this.#logger.warn(`snowplow-client-session: ${path} was a symbolic link, not a file of this store; removed the link (its target is untouched)`);
    }
  }

  /** False when the folder cannot be written now (read-only, full): the store is read, and locked at its first write. */
  async #tryLock(files: StoreFiles): Promise<boolean> {
    try {
      await takeLock(files);
      return true;
    } catch (error) {
      if (error instanceof SessionStoreLockedError || !isUnwritable(error)) throw error;
      return false;
    }
  }

  /** The document, or an empty one after moving a corrupt one aside (its userId kept when legible). */
  async #readDocument(files: StoreFiles, locked: boolean): Promise<{ data: SessionFile; movedAside: boolean }> {
    try {
      await files.db.read();
      return { data: files.db.data, movedAside: false };
    } catch (error) {
      if (!(error instanceof CorruptDocumentError)) throw error;
      return { data: await this.#moveAside(files.path, error, locked), movedAside: true };
    }
  }

  async #moveAside(path: string, corrupt: CorruptDocumentError, locked: boolean): Promise<SessionFile> {
    const aside = `${path}.corrupt-${Date.now()}`;
    if (locked) await rename(path, aside);
    const salvaged = salvageDefaultSession(corrupt.text);
    const kept = salvaged?.userId ?? null;
    const where = locked ? `moved it to ${aside}` : 'it stays until the folder can be written';
    this.#logger.warn(
      `snowplow-client-session: the session file ${path} is unusable: ${corrupt.problem}; ${where} and started afresh` +
        (kept === null ? '' : ` (keeping userId ${kept})`),
    );
    const data = emptyDocument();
    // The plugin keeps the userId (and the session's identity, to continue the chain) and opens a new session.
    if (salvaged !== null) data.session = salvaged as SessionState;
    return data;
  }

  #apply(change: Change): void {
    if ('k' in change) {
      if (change.v === undefined) this.#data.sessions.delete(change.k);
      else this.#data.sessions.set(change.k, change.v);
    } else if ('d' in change) {
      this.#data.session = change.d;
    } else {
      this.#data.reserved = emptyDocument().reserved;
    }
  }

  /** Continues each session after its highest reservation (marking it to be written). Returns whether there were any. */
  #applyReservations(files: StoreFiles): boolean {
    const data = this.#data;
    const reservations = Object.entries(data.reserved).map(([key, reservation]) => ({ key, ...reservation }));
    reservations.push(...files.journal.read());
    for (const { key, sessionId, upTo } of reservations) {
      const record = key === DEFAULT_KEY ? data.session : data.sessions.get(key);
      if (record?.sessionId === sessionId && Number.isInteger(record.eventIndex) && record.eventIndex < upTo) {
        record.eventIndex = upTo;
        this.#markDirty(key === DEFAULT_KEY ? undefined : key);
      }
    }
    data.reserved = emptyDocument().reserved;
    return reservations.length > 0;
  }

  /**
   * One write for every change made until that write starts; writes run one at a time, so an older
   * document can never be renamed over a newer one.
   */
  #scheduleWrite(): Promise<void> {
    if (this.#scheduledWrite === undefined) {
      const previous = this.#lastWrite;
      const write = (async () => {
        await new Promise<void>((done) => setImmediate(done));
        await previous?.catch(() => undefined);
        this.#scheduledWrite = undefined; // changes from here on belong to the next write
        await this.#persist();
      })();
      this.#scheduledWrite = write;
      this.#lastWrite = write;
    }
    return this.#scheduledWrite;
  }

  /** Rewrites a small document whole, else appends what changed, or compacts once the log has outgrown the document. */
  async #persist(): Promise<void> {
    const files = this.#files;
    if (files === undefined) throw new Error(`snowplow-client-session: the session file ${this.file} is not loaded`);
    if (!files.lock.held) await takeLock(files); // the folder was read-only or full at start-up
    files.lock.assertHeld();
    const small = files.document.bytes < WHOLE_WRITE_BYTES;
    if (small && files.changes.size === 0 && !files.changes.setAside) return this.#writeWhole(files);
    if (!small && !this.#compactionWanted && files.changes.size <= files.document.bytes) return this.#appendDirty(files);
    await files.changes.beginCompaction();
    this.#compacting = true;
    try {
      await files.db.write(); // appends what changed meanwhile just before it replaces the document
    } finally {
      this.#compacting = false;
    }
    await files.changes.finishCompaction();
    this.#afterWholeWrite();
  }

  /** A whole write of a store without a change log: everything marked so far is in it. */
  async #writeWhole(files: StoreFiles): Promise<void> {
    const marked = this.#takeMarks();
    try {
      await files.db.write();
    } catch (error) {
      this.#restoreMarks(marked);
      throw error;
    }
    this.#afterWholeWrite();
  }

  #afterWholeWrite(): void {
    this.#compactionWanted = false;
    this.#journalCompaction?.finish();
    this.#journalCompaction = null;
  }

  #takeMarks(): { keys: string[]; defaultDirty: boolean; reservedCleared: boolean } {
    const marked = { keys: [...this.#dirtyKeys], defaultDirty: this.#defaultDirty, reservedCleared: this.#reservedCleared };
    this.#dirtyKeys.clear();
    this.#defaultDirty = false;
    this.#reservedCleared = false;
    return marked;
  }

  #restoreMarks(marked: { keys: string[]; defaultDirty: boolean; reservedCleared: boolean }): void {
    for (const key of marked.keys) this.#dirtyKeys.add(key);
    this.#defaultDirty ||= marked.defaultDirty;
    this.#reservedCleared ||= marked.reservedCleared;
  }

  /** Appends every change not yet in the log; on failure they stay marked for the next write. */
  async #appendDirty(files: StoreFiles): Promise<void> {
    const marked = this.#takeMarks();
    const changes: Change[] = marked.keys.map((k) => {
      const v = this.#data.sessions.get(k);
      return v === undefined ? { k } : { k, v };
    });
    if (marked.defaultDirty) changes.push({ d: this.#data.session });
    if (marked.reservedCleared) changes.push({ reserved: {} });
    try {
      await files.changes.append(changes);
      if (changes.length > 0) this.#appends++;
    } catch (error) {
      this.#restoreMarks(marked);
      throw error;
    }
  }
}

/** Creates the store's folder when missing (mode 0700) and takes its lock. */
async function takeLock(files: StoreFiles): Promise<void> {
  await mkdir(dirname(files.path), { recursive: true, mode: 0o700 });
  await files.lock.acquire();
}

/** The path a store works on: a symbolic link (also one whose target does not exist yet) is followed. */
async function followLinks(file: string, depth = 0): Promise<string> {
  try {
    return await realpath(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const link = await lstat(file).then((stats) => (stats.isSymbolicLink() ? readlink(file) : null), () => null);
  if (link === null || depth >= 40) return file;
  return followLinks(resolve(dirname(file), link), depth + 1);
}

/** Temp files a crashed process left beside the document (the lock is held: no live writer owns them). */
async function removeTempFiles(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const entries = await readdir(dirname(path)).catch(() => [] as string[]);
  await Promise.all(entries.filter((entry) => entry.startsWith(prefix) && entry.endsWith('.tmp')).map((entry) => rm(join(dirname(path), entry), { force: true })));
}

function isUnwritable(error: unknown): boolean {
  return ['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'EIO'].includes((error as NodeJS.ErrnoException).code ?? '');
}

/**
 * The default session's identity from the text of a broken file, when legible: its record is written
 * first, with userId, sessionId and sessionIndex before anything else, and holds no nested objects.
 */
function salvageDefaultSession(text: string): (Pick<SessionState, 'userId'> & Partial<SessionState>) | null {
  const start = text.search(/"session"\s*:\s*\{/);
  if (start === -1) return null;
  const end = text.indexOf('}', start);
  const body = text.slice(start, end === -1 ? undefined : end);
  const userId = /"userId"\s*:\s*"([^"]*)"/.exec(body)?.[1];
  if (userId === undefined || !USER_ID.test(userId)) return null;
  const sessionId = /"sessionId"\s*:\s*"([^"]*)"/.exec(body)?.[1];
  const sessionIndex = /"sessionIndex"\s*:\s*(\d+)/.exec(body)?.[1];
  return { userId, ...(sessionId === undefined ? {} : { sessionId }), ...(sessionIndex === undefined ? {} : { sessionIndex: Number(sessionIndex) }) };
}

