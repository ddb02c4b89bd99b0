// The package as users get it: the packed tarball (`npm pack`), installed into one fresh app in a temp
// folder, as users install it. The app runs the quick start as CommonJS and as TypeScript (NodeNext,
// strict), and docs/testing.md's examples plus a failing case in Jest, Vitest 4 and node:test.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshApp, pack, ROOT, run } from './helpers/packed-app.js';
import { BAD, expectExplained, failingCase, MISSED, PLAIN_ENV, readJestLikeReport, readTapFailures, runNode } from './helpers/runner-cases.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const JEST = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const EXAMPLES = join(ROOT, 'examples', 'testing');

let dir: string;
let app: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-session-package-'));
  // What a TypeScript app on Node has: its own @types/node (tracker-core's types use fetch's Request/Response).
  // The test runners are this repository's (Jest, Vitest): the app's test files import only the package.
  app = await freshApp(dir, 'app', await pack(dir), ['@types/node@20']);
  await cp(join(ROOT, 'examples', 'schemas'), join(app, 'schemas'), { recursive: true });
  for (const runner of ['jest', 'vitest', 'node'] as const) {
    await cp(join(EXAMPLES, `${runner}.test.mjs`), join(app, `${runner}.test.mjs`));
    await writeFile(join(app, `${runner}-failing.test.mjs`), failingCase(runner));
  }
}, 300_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

const QUICK_START = (load: string) => `${load}
const { buildStructEvent, trackerCore } = CORE;
const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0 });
let entity;
const validation = createValidationPlugin({ onInvalid: 'throw' });
const core = trackerCore({ corePlugins: [session.plugin, validation.plugin], callback: (pb) => {
  const cx = JSON.parse(Buffer.from(String(pb.build().cx), 'base64url').toString('utf8'));
  entity = cx.data.find((e) => e.schema === CLIENT_SESSION_SCHEMA).data;
} });
core.track(buildStructEvent({ category: 'c', action: 'a' }));
const report = new IgluValidator().validateData(CLIENT_SESSION_SCHEMA, entity);
let thrown = '';
try {
  core.track(buildStructEvent({ category: 'c', action: 'a' }), [{ schema: CLIENT_SESSION_SCHEMA, data: { sessionIndex: 'one' } }]);
} catch (error) {
  thrown = error.name;
}
await session.close();
console.log(JSON.stringify({ sessionIndex: entity.sessionIndex, eventIndex: entity.eventIndex, valid: report.valid, thrown, testing: typeof assertTracked }));
`;

describe('the packed package', () => {
  it('holds what users run: the library (with /testing), the four commands (and collector wait), the collector UI, schemas/, LICENSE; no bench, demo or source maps', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'dist/plugin/index.js', 'dist/plugin/index.d.ts', 'dist/scripts/validate.js', 'dist/scripts/lint-schemas.js', 'dist/scripts/verify-schemas.js', 'dist/scripts/collector.js', 'dist/scripts/collector-wait.js', 'dist/plugin/testing/index.js', 'dist/plugin/iglu/validation-plugin.js', 'dist/ui/index.html', 'dist/ui/app.js', 'dist/ui/app.css', 'schemas/com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2']));
    expect(files.filter((f) => f.endsWith('.map') || /bench|demo|redis-server/.test(f) || f.startsWith('plugin/') || f.startsWith('test/'))).toEqual([]);
  });

  it('a CommonJS app and a TypeScript app (NodeNext, strict) install the tarball and run the quick start (with the validation plugin); redis and better-sqlite3 are not installed', async () => {
    await expect(run(process.execPath, ['-e', "require.resolve('redis')"], { cwd: app })).rejects.toThrow(); // an optional peer: not installed
    await expect(run(process.execPath, ['-e', "require.resolve('better-sqlite3')"], { cwd: app })).rejects.toThrow();
    const redisless = await run(process.execPath, ['-e', "const { RedisSessionStore } = require('snowplow-client-session'); try { new RedisSessionStore({ url: 'redis://127.0.0.1:9' }); } catch (e) { console.log(e.message); }"], { cwd: app });
    expect(redisless.stdout).toBe('snowplow-client-session: RedisSessionStore needs the `redis` package (an optional peer dependency): npm install redis@6\n');
    const sqliteless = await run(process.execPath, ['-e', "const { SqliteSessionStore } = require('snowplow-client-session'); try { new SqliteSessionStore({ file: 'sessions.db' }); } catch (e) { console.log(e.message); }"], { cwd: app });
    expect(sqliteless.stdout).toBe('snowplow-client-session: SqliteSessionStore needs the `better-sqlite3` package (an optional peer dependency): npm install better-sqlite3@12\n');

    const cjs = QUICK_START(`const { createClientSession, MemorySessionStore, CLIENT_SESSION_SCHEMA } = require('snowplow-client-session');
const { IgluValidator, createValidationPlugin } = require('snowplow-client-session/iglu');
const { assertTracked } = require('snowplow-client-session/testing');
const CORE = require('@snowplow/tracker-core');`);
    await writeFile(join(app, 'quick-start.cjs'), `(async () => {\n${cjs}\n})();\n`);
    const fromCjs = await run(process.execPath, ['quick-start.cjs'], { cwd: app });
    expect(JSON.parse(fromCjs.stdout)).toEqual({ sessionIndex: 1, eventIndex: 1, valid: true, thrown: 'InvalidEventError', testing: 'function' });

    const ts = QUICK_START(`import { createClientSession, MemorySessionStore, CLIENT_SESSION_SCHEMA } from 'snowplow-client-session';
import { IgluValidator, createValidationPlugin } from 'snowplow-client-session/iglu';
import { assertTracked } from 'snowplow-client-session/testing';
import * as CORE from '@snowplow/tracker-core';`).replace('let entity;', 'let entity: any;').replace('(e) =>', '(e: { schema: string }) =>').replace('thrown = error.name', 'thrown = (error as Error).name');
    await writeFile(join(app, 'quick-start.mts'), ts);
    const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, types: ['node'], lib: ['ES2023'], outDir: 'out' }, files: ['quick-start.mts'] };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app }).catch((error: { stdout?: string }) => {
      throw new Error(`the TypeScript app does not compile:\n${error.stdout ?? String(error)}`);
    });
    const fromTs = await run(process.execPath, ['out/quick-start.mjs'], { cwd: app });
    expect(JSON.parse(fromTs.stdout)).toEqual({ sessionIndex: 1, eventIndex: 1, valid: true, thrown: 'InvalidEventError', testing: 'function' });
  }, 120_000);

  it("better-sqlite3 installed without its install script (npm 12 runs it only when the app allows it): the store's constructor says so and how to fix it", async () => {
    // What `npm install better-sqlite3` leaves when the script does not run: the package and its
    // dependencies, no native binary (build/).
    const modules = join(app, 'node_modules');
    await cp(join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), join(modules, 'better-sqlite3', 'package.json'));
    await cp(join(ROOT, 'node_modules', 'better-sqlite3', 'lib'), join(modules, 'better-sqlite3', 'lib'), { recursive: true });
    for (const dependency of ['bindings', 'file-uri-to-path']) await cp(join(ROOT, 'node_modules', dependency), join(modules, dependency), { recursive: true });
    try {
      const binaryless = await run(process.execPath, ['-e', "const { SqliteSessionStore } = require('snowplow-client-session'); try { new SqliteSessionStore({ file: 'sessions.db' }); } catch (e) { console.log(e.message); }"], { cwd: app });
      expect(binaryless.stdout).toBe(
        "snowplow-client-session: SqliteSessionStore cannot load better-sqlite3's native binary: its install script did not run (npm 12 runs it only where the app's package.json allows it: npm approve-scripts better-sqlite3 && npm rebuild better-sqlite3), or it was built for another Node version (npm rebuild better-sqlite3)\n",
      );
    } finally {
      for (const dependency of ['better-sqlite3', 'bindings', 'file-uri-to-path']) await rm(join(modules, dependency), { recursive: true, force: true });
    }
  });
});

describe('snowplow-client-session/testing in the app: docs/testing.md\'s example passes, the failing case explains itself', () => {
  it('Jest: toHaveTrackedEvent fails with the closest event in Jest\'s diff and the failed event\'s error; toHaveNoBadEvents lists it', async () => {
    const { stdout, stderr } = await runNode(app, [JEST, '--rootDir', app, '--json', '--testMatch', '**/jest*.test.mjs'], { ...PLAIN_ENV, NODE_OPTIONS: '--experimental-vm-modules --disable-warning=ExperimentalWarning' });
    const { passed, failed, messages } = readJestLikeReport(stdout);
    expect({ passed, failed, stderr }).toMatchObject({ passed: 2, failed: 2 });
    expect(messages[MISSED]).toContain('expect(collector).toHaveTrackedEvent(query)');
    expect(messages[MISSED]).toMatch(/- Expected\n\s*\+ Received\n\n\s*Object \{\n\s*"data": Object \{\n\s*-\s+"total": 10,\n\s*\+\s+"total": 12\.5,/);
    expect(messages[BAD]).toContain('expect(collector).toHaveNoBadEvents(query)');
    expectExplained(messages[MISSED], messages[BAD]);
  }, 120_000);

  it('Vitest 4: the same with Vitest\'s diff (the example also uses .not and count)', async () => {
    const { stdout, stderr } = await runNode(app, [VITEST, 'run', '--root', app, '--reporter=json', 'vitest']);
    const { passed, failed, messages } = readJestLikeReport(stdout);
    expect({ passed, failed, stderr }).toMatchObject({ passed: 1, failed: 2 });
    expect(messages[MISSED]).toContain('expect(collector).toHaveTrackedEvent(query)');
    expect(messages[MISSED]).toMatch(/- Expected\n\s*\+ Received\n\n\s*\{\n\s*"data": \{\n\s*-\s+"total": 10,\n\s*\+\s+"total": 12\.5,/);
    expectExplained(messages[MISSED], messages[BAD]);
  }, 120_000);

  it('node:test: assertTracked and assertNoBadEvents fail with AssertionErrors and node:assert\'s diff', async () => {
    const passing = await runNode(app, ['--test', '--test-reporter=spec', 'node.test.mjs']);
    expect({ code: passing.code, stdout: passing.stdout }).toMatchObject({ code: 0, stdout: expect.stringContaining('pass 1') });
    const failing = await runNode(app, ['--test', '--test-reporter=tap', 'node-failing.test.mjs']);
    expect({ code: failing.code, fail: failing.stdout.includes('# fail 2') }).toEqual({ code: 1, fail: true });
    const [missed, bad] = readTapFailures(failing.stdout);
    expect(missed).toContain("code: 'ERR_ASSERTION'");
    expect(missed).toContain('assertTracked: 0 of 1 event matching');
    expect(missed).toMatch(/\+ actual - expected\n\s*\{\n\s*data: \{\n\s*\+\s+total: 12\.5\n\s*-\s+total: 10/);
    expect(bad).toContain('assertNoBadEvents: expected no failed events, found 1.');
    expectExplained(missed, bad);
  }, 120_000);
});
