import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

let tempCounter = 0;

/**
 * A lowdb adapter for a JSON file that is always complete on disk: each write goes to a temp file in the
 * same folder (owner-only, mode 0600), is flushed to the disk, then renamed over the target in one step.
 * A crash leaves either the old document or the new one, never half of one.
 */
export class AtomicJsonFile<T> implements Adapter<T> {
  readonly file: string;
  /** Completed writes and their bytes, for `LowdbSessionStore.stats()`. */
  writes = 0;
  bytesWritten = 0;

  constructor(file: string) {
    this.file = file;
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return JSON.parse(text) as T;
  }

  async write(data: T): Promise<void> {
    // Same folder as the target so the rename stays on one file system and is atomic.
    const temp = join(dirname(this.file), `.${basename(this.file)}.${process.pid}.${++tempCounter}.tmp`);
    const handle = await open(temp, 'w', 0o600);
    const text = JSON.stringify(data);
    try {
      await handle.writeFile(text);
      // Without this a power loss after the rename can leave an empty file behind.
      await handle.datasync();
    } catch (error) {
      await handle.close();
      await rm(temp, { force: true });
      throw error;
    }
    await handle.close();
    try {
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    this.writes++;
    this.bytesWritten += Buffer.byteLength(text);
  }
}
