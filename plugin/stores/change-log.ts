import { constants, open, rename, rm, stat } from 'node:fs/promises';
import type { SessionState } from '../session/state.js';

/** One change: a keyed session set (`v`) or removed (no `v`), the default session (`d`), or the reservations cleared. */
export type Change = { k: string; v?: SessionState } | { d: SessionState | null } | { reserved: Record<string, never> };

/** Appends: create if missing, never through a symbolic link. */
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * The changes made since the session document was last written whole (`<file>.changes`, one JSON line
 * per change), so a write costs what changed, not the whole store. A compaction sets the log aside
 * (`<file>.changes.compacting`) while the document is rewritten and removes it once the new document is
 * in place. Read back in order after the document: the last change of a key wins; a line torn by a crash
 * is skipped.
 */
export class ChangeLog {
  readonly path: string;
  readonly compactingPath: string;
  /** Bytes in the log(s) not yet folded into the document. */
  size = 0;
  /** Whether a log set aside by a compaction that did not finish is still there. */
  setAside = false;

  constructor(file: string) {
    this.path = `${file}.changes`;
    this.compactingPath = `${file}.changes.compacting`;
  }

  async append(changes: Change[]): Promise<void> {
    if (changes.length === 0) return;
    let text = '';
    for (const change of changes) text += `${JSON.stringify(change)}\n`;
    const handle = await open(this.path, APPEND, 0o600);
    try {
      await handle.write(text);
    } finally {
      await handle.close();
    }
    this.size += Buffer.byteLength(text);
  }

  /** Every change on disk, oldest first. */
  async *read(): AsyncGenerator<Change> {
    this.size = 0;
    this.setAside = false;
    for (const path of [this.compactingPath, this.path]) {
      let rest = '';
      try {
        const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
        if (path === this.compactingPath) this.setAside = true;
        for await (const chunk of handle.createReadStream({ encoding: 'utf8', highWaterMark: 1 << 20 }) as AsyncIterable<string>) {
          this.size += chunk.length;
          const lines = (rest + chunk).split('\n');
          rest = lines.pop()!;
          for (const line of lines) {
            const change = parseChange(line);
            if (change !== null) yield change;
          }
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      // `rest` is a line cut short by a crash: skipped
    }
  }

  /** Sets the log aside before the document is rewritten (a log already set aside by a failed compaction stays). */
  async beginCompaction(): Promise<void> {
    if (this.setAside) return;
    await rename(this.path, this.compactingPath).then(
      () => (this.setAside = true),
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      },
    );
  }

  /** The new document holds everything the set-aside log held. */
  async finishCompaction(): Promise<void> {
    await rm(this.compactingPath, { force: true });
    this.setAside = false;
    this.size = await stat(this.path).then((found) => found.size, () => 0);
  }
}

function parseChange(line: string): Change | null {
  if (line === '') return null;
  try {
    const change = JSON.parse(line) as Record<string, unknown>;
    if (typeof change.k === 'string' && (change.v === undefined || (typeof change.v === 'object' && change.v !== null))) return change as Change;
    if ('d' in change && typeof change.d === 'object') return change as Change;
    if ('reserved' in change) return { reserved: {} };
  } catch {
    // a line torn by a crash or a full disk
  }
  return null;
}
