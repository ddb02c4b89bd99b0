import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm pack` of this repository (dist/ is built by `npm test` first), into `dir`; the tarball's path. */
export async function pack(dir: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
  return join(dir, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
}

/**
 * A fresh app in `dir/name` with the packed tarball and `packages` installed as users install them
 * (`npm install`), from npm's cache where it can (the repository's own install filled it).
 */
export async function freshApp(dir: string, name: string, tarball: string, packages: string[] = [], manifest: Record<string, unknown> = {}): Promise<string> {
  const app = join(dir, name);
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, ...manifest }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...packages], { cwd: app, timeout: 240_000 });
  return app;
}
