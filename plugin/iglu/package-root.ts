import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'snowplow-client-session';

/**
 * This package's folder, found by walking up from this file: the same answer from the TypeScript
 * sources (tests), from `dist/` (the published build) and from an installed copy in node_modules.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (manifest.name === PACKAGE_NAME) return dir;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${PACKAGE_NAME}: cannot find the package folder above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The static Iglu repository this package ships. */
export const PACKAGE_SCHEMAS = join(packageRoot(), 'schemas');
