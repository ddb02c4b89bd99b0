// The package as users get it: the packed tarball (`npm pack`), installed into fresh apps in temp folders.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { withTempDir } from './helpers/capture.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** `npm pack` of this repository (dist/ is built by `npm test` first), into `dir`; the tarball's path. */
async function pack(dir: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
  return join(dir, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
}

const QUICK_START = (load: string) => `${load}
const { buildStructEvent, trackerCore } = CORE;
const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0 });
let entity;
const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => {
  const cx = JSON.parse(Buffer.from(String(pb.build().cx), 'base64url').toString('utf8'));
  entity = cx.data.find((e) => e.schema === CLIENT_SESSION_SCHEMA).data;
} });
core.track(buildStructEvent({ category: 'c', action: 'a' }));
const report = new IgluValidator().validateData(CLIENT_SESSION_SCHEMA, entity);
await session.close();
console.log(JSON.stringify({ sessionIndex: entity.sessionIndex, eventIndex: entity.eventIndex, valid: report.valid }));
`;

describe('the packed package', () => {
  it('holds what users run: the library, the three commands, the collector UI, schemas/, LICENSE; no bench, demo or source maps', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'dist/plugin/index.js', 'dist/plugin/index.d.ts', 'dist/scripts/validate.js', 'dist/scripts/lint-schemas.js', 'dist/scripts/collector.js', 'dist/ui/index.html', 'dist/ui/app.js', 'dist/ui/app.css', 'schemas/com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2']));
    expect(files.filter((f) => f.endsWith('.map') || /bench|demo|redis-server/.test(f) || f.startsWith('plugin/') || f.startsWith('test/'))).toEqual([]);
  });

  it('a CommonJS app and a TypeScript app (NodeNext, strict) install the tarball and run the quick start; redis and better-sqlite3 are not installed', () =>
    withTempDir(async (dir) => {
      const tarball = await pack(dir);
      const app = join(dir, 'app');
      await mkdir(app);
      await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
      // What a TypeScript app on Node has: its own @types/node (tracker-core's types use fetch's Request/Response).
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@types/node@20'], { cwd: app, timeout: 240_000 });
      await expect(run(process.execPath, ['-e', "require.resolve('redis')"], { cwd: app })).rejects.toThrow(); // an optional peer: not installed
      await expect(run(process.execPath, ['-e', "require.resolve('better-sqlite3')"], { cwd: app })).rejects.toThrow();
      const redisless = await run(process.execPath, ['-e', "const { RedisSessionStore } = require('snowplow-client-session'); try { new RedisSessionStore({ url: 'redis://127.0.0.1:9' }); } catch (e) { console.log(e.message); }"], { cwd: app });
      expect(redisless.stdout).toBe('snowplow-client-session: RedisSessionStore needs the `redis` package (an optional peer dependency): npm install redis@6\n');
      const sqliteless = await run(process.execPath, ['-e', "const { SqliteSessionStore } = require('snowplow-client-session'); try { new SqliteSessionStore({ file: 'sessions.db' }); } catch (e) { console.log(e.message); }"], { cwd: app });
      expect(sqliteless.stdout).toBe('snowplow-client-session: SqliteSessionStore needs the `better-sqlite3` package (an optional peer dependency): npm install better-sqlite3@12\n');

      const cjs = QUICK_START(`const { createClientSession, MemorySessionStore, CLIENT_SESSION_SCHEMA } = require('snowplow-client-session');
const { IgluValidator } = require('snowplow-client-session/iglu');
const CORE = require('@snowplow/tracker-core');`);
      await writeFile(join(app, 'quick-start.cjs'), `(async () => {\n${cjs}\n})();\n`);
      const fromCjs = await run(process.execPath, ['quick-start.cjs'], { cwd: app });
      expect(JSON.parse(fromCjs.stdout)).toEqual({ sessionIndex: 1, eventIndex: 1, valid: true });

      const ts = QUICK_START(`import { createClientSession, MemorySessionStore, CLIENT_SESSION_SCHEMA } from 'snowplow-client-session';
import { IgluValidator } from 'snowplow-client-session/iglu';
import * as CORE from '@snowplow/tracker-core';`).replace('let entity;', 'let entity: any;').replace('(e) =>', '(e: { schema: string }) =>');
      await writeFile(join(app, 'quick-start.mts'), ts);
      const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, types: ['node'], lib: ['ES2023'], outDir: 'out' }, files: ['quick-start.mts'] };
      await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
      await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app }).catch((error: { stdout?: string }) => {
        throw new Error(`the TypeScript app does not compile:\n${error.stdout ?? String(error)}`);
      });
      const fromTs = await run(process.execPath, ['out/quick-start.mjs'], { cwd: app });
      expect(JSON.parse(fromTs.stdout)).toEqual({ sessionIndex: 1, eventIndex: 1, valid: true });
    }),
  300_000);
});
