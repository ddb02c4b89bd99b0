import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** A file found by `walkFiles`, or a path that could not be walked and why. */
export type WalkedFile = { file: string } | { file: string; error: string };

/**
 * The regular files at `root` (itself, if it is a file) and below it, in a stable order. Symbolic links are
 * followed, as igluctl (Java's `Files.isRegularFile`) does; a folder reached again through a link (a loop)
 * is reported, not walked twice. `skipHidden` leaves out names starting with `.` (igluctl's rule).
 */
export async function* walkFiles(root: string, options: { skipHidden?: boolean } = {}): AsyncGenerator<WalkedFile> {
  yield* walk(root, new Set(), options.skipHidden ?? false);
}

async function* walk(path: string, ancestors: Set<string>, skipHidden: boolean): AsyncGenerator<WalkedFile> {
  let info;
  try {
    info = await stat(path); // follows links: a broken link fails here, and is reported
  } catch (error) {
    yield { file: path, error: describeIoError(error) };
    return;
  }
  if (!info.isDirectory()) {
    if (info.isFile()) yield { file: path };
    return;
  }
  const real = await realpath(path);
  if (ancestors.has(real)) {
    yield { file: path, error: `a symbolic link loop: ${path} leads back to ${real}, which is already being walked` };
    return;
  }
  let names: string[];
  try {
    names = (await readdir(path)).sort();
  } catch (error) {
    yield { file: path, error: describeIoError(error) };
    return;
  }
  const inside = new Set(ancestors).add(real);
  for (const name of names) {
    if (skipHidden && basename(name).startsWith('.')) continue;
    yield* walk(join(path, name), inside, skipHidden);
  }
}

/** A file-system error as one line that names the path. */
export function describeIoError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const path = e?.path ?? '';
  if (e?.code === 'ENOENT') return `no such file or directory: ${path}`.trim();
  if (e?.code === 'EACCES') return `permission denied: ${path}`.trim();
  if (e?.code === 'EISDIR') return 'is a directory';
  if (e?.code === 'ELOOP') return `too many levels of symbolic links: ${path}`.trim();
  return e?.message ?? String(error);
}
