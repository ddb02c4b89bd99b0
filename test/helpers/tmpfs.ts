import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real small file system (tmpfs, `size` KiB) mounted on a temp folder for `run`, then unmounted: a
 * folder that can really be made read-only (`setReadOnly`) or full. Needs root, as CI runs.
 */
export async function withTmpfs<T>(sizeKiB: number, run: (dir: string, setReadOnly: (on: boolean) => void) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'client-session-fs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir]);
  const setReadOnly = (on: boolean) => execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir]);
  try {
    return await run(dir, setReadOnly);
  } finally {
    execFileSync('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  }
}
