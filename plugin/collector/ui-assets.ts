/** The web UI at `/micro/ui`: static files built into `dist/ui` by `npm run build`, served from memory. */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { packageRoot } from '../iglu/package-root.js';
import { HttpError } from './http.js';

const FILES: Record<string, { file: string; type: string }> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
/** The page loads nothing but its own files and the collector's API: no CDN, no inline script. */
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

let loaded: Promise<Map<string, Buffer>> | null = null;

function load(): Promise<Map<string, Buffer>> {
  loaded ??= (async () => {
    const dir = join(packageRoot(), 'dist', 'ui');
    const files = new Map<string, Buffer>();
    for (const { file } of Object.values(FILES)) {
      if (files.has(file)) continue;
      files.set(file, await readFile(join(dir, file)));
    }
    return files;
  })().catch((error: NodeJS.ErrnoException) => {
    loaded = null; // built later: try again next time
    throw new HttpError(503, `the UI is not built (${error.code ?? error.message} in dist/ui): run npm run build`);
  });
  return loaded;
}

/** Answers `/micro/ui<rest>`. */
export async function serveUi(res: ServerResponse, rest: string): Promise<void> {
  const asset = Object.hasOwn(FILES, rest) ? FILES[rest]! : null;
  if (asset === null) throw new HttpError(404, `no UI file ${rest}; the UI is at /micro/ui`);
  const body = (await load()).get(asset.file)!;
  res.writeHead(200, { 'Content-Type': asset.type, 'Content-Length': body.length, ...SECURITY_HEADERS });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
