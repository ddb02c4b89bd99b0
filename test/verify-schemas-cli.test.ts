// `verify:schemas` as CI runs it: the built command, on a real git repository in a temp folder.
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { withTempDir } from './helpers/capture.js';
import { runCli } from './helpers/run-cli.js';

const schema = (name: string, version: string, properties: Record<string, unknown>) => ({
  $schema: IGLU_META_SCHEMA_URI,
  description: `A ${name}`,
  self: { vendor: 'com.acme', name, format: 'jsonschema', version },
  type: 'object',
  properties,
  additionalProperties: false,
});

async function write(dir: string, files: Record<string, unknown>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), `${JSON.stringify(content, null, 2)}\n`);
  }
}

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, stdio: 'pipe' });

/** A repository whose main commit publishes checkout 1-0-0 and cart 1-0-0, both under repo/schemas. */
async function published(dir: string): Promise<void> {
  git(dir, 'init', '-q', '-b', 'main');
  await write(join(dir, 'schemas'), {
    'com.acme/checkout/jsonschema/1-0-0': schema('checkout', '1-0-0', { total: { type: 'number' } }),
    'com.acme/cart/jsonschema/1-0-0': schema('cart', '1-0-0', { sku: { type: 'string', maxLength: 20 } }),
  });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'published');
}

describe('issue 26 reproduction', () => {
  it('a 1-0-1 that turns a string into an integer passes lint:schemas and fails verify:schemas (parquet); the Redshift VARCHAR column takes the integer, and the advice says MODEL', () =>
    withTempDir(async (dir) => {
      await write(dir, {
        'com.acme/cart/jsonschema/1-0-0': schema('cart', '1-0-0', { sku: { description: 'SKU', type: ['string', 'null'], maxLength: 20 } }),
        'com.acme/cart/jsonschema/1-0-1': schema('cart', '1-0-1', { sku: { description: 'SKU', type: ['integer', 'null'], minimum: 0, maximum: 100 } }),
      });
      expect((await runCli('lint-schemas', ['.'], { cwd: dir })).code).toBe(0);
      const parquet = await runCli('verify-schemas', ['.'], { cwd: dir });
      expect([parquet.code, parquet.stdout]).toEqual([1, expect.stringContaining('  breaking Incompatible type change String to Integer at /sku\n')]);
      const redshift = await runCli('verify-schemas', ['--target', 'redshift', '.'], { cwd: dir });
      expect([redshift.code, redshift.stdout.split('\n').slice(1, 3)]).toEqual([
        0,
        [
          "  ok       Column sku: SMALLINT fits the column's VARCHAR(20): the column is kept",
          '  SchemaVer: ADDITION chosen, MODEL is the smallest correct bump (2-0-0): /properties/sku: the type changed from string to integer, null',
        ],
      ]);
    }));
});

describe('verify:schemas: the Redshift VARCHAR rule for date-time, and files it cannot read', () => {
  it('a string column takes a date-time when it is at least VARCHAR(25) (the timestamp as text); a shorter one breaks', () =>
    withTempDir(async (dir) => {
      await write(dir, {
        'com.acme/cart/jsonschema/1-0-0': schema('cart', '1-0-0', { at: { description: 'when', type: ['string', 'null'], maxLength: 30 }, on: { description: 'day', type: ['string', 'null'], maxLength: 20 } }),
        'com.acme/cart/jsonschema/1-0-1': schema('cart', '1-0-1', { at: { description: 'when', type: ['string', 'null'], format: 'date-time' }, on: { description: 'day', type: ['string', 'null'], format: 'date-time' } }),
      });
      const redshift = await runCli('verify-schemas', ['--target', 'redshift', '.'], { cwd: dir });
      expect([redshift.code, redshift.stdout.split('\n').slice(1, 3)]).toEqual([
        1,
        ["  ok       Column at: TIMESTAMP fits the column's VARCHAR(30): the column is kept", '  breaking Incompatible types in column on old RedshiftVarchar(20) new RedshiftTimestamp'],
      ]);
    }));

  it('exits 2 naming the file when a schema is not JSON, and when the repository holds no schema', () =>
    withTempDir(async (dir) => {
      await mkdir(join(dir, 'empty'));
      const empty = await runCli('verify-schemas', ['empty'], { cwd: dir });
      expect([empty.code, empty.stdout]).toEqual([2, expect.stringContaining('empty is empty: no <vendor>/<name>/jsonschema/<version> file')]);
      await mkdir(join(dir, 'broken/com.acme/x/jsonschema'), { recursive: true });
      await writeFile(join(dir, 'broken/com.acme/x/jsonschema/1-0-0'), '{not json');
      const broken = await runCli('verify-schemas', ['broken'], { cwd: dir });
      expect([broken.code, broken.stdout]).toEqual([2, expect.stringContaining('com.acme/x/jsonschema/1-0-0: [error] syntax: not valid JSON')]);
      expect(broken.stdout).toContain('1 could not be read');
    }));
});

describe('verify:schemas --base <git-ref>', () => {
  it('fails on a published version edited in place and on a new version that breaks its predecessor, and names the changed files', () =>
    withTempDir(async (dir) => {
      await published(dir);
      await write(join(dir, 'schemas'), {
        'com.acme/checkout/jsonschema/1-0-0': schema('checkout', '1-0-0', { total: { type: 'number', minimum: 0 } }), // edited in place
        'com.acme/cart/jsonschema/1-0-1': schema('cart', '1-0-1', { sku: { type: 'integer' } }), // breaks 1-0-0
        'com.acme/checkout/jsonschema/1-0-1': schema('checkout', '1-0-1', { total: { type: 'number' }, currency: { type: 'string', maxLength: 3 } }),
      });
      const run = await runCli('verify-schemas', ['--base', 'main', '--json', 'schemas'], { cwd: dir });
      expect([run.code, run.stderr]).toEqual([1, '']);
      const report = JSON.parse(run.stdout);
      expect(report.files).toEqual([
        { file: 'schemas/com.acme/cart/jsonschema/1-0-1', status: 'added' },
        { file: 'schemas/com.acme/checkout/jsonschema/1-0-0', status: 'modified' },
        { file: 'schemas/com.acme/checkout/jsonschema/1-0-1', status: 'added' },
      ]);
      expect(report.edited).toEqual([
        {
          schema: 'iglu:com.acme/checkout/jsonschema/1-0-0',
          file: 'schemas/com.acme/checkout/jsonschema/1-0-0',
          change: 'modified',
          description: 'a published version was edited in place (at /properties/total/minimum): publish the change as a new version',
        },
      ]);
      // Only the new versions are checked, each against the published model before it.
      expect(report.changes.map((c: Record<string, unknown>) => [c.schema, c.previous, c.path, c.breaking, c.description])).toEqual([
        ['iglu:com.acme/cart/jsonschema/1-0-1', 'iglu:com.acme/cart/jsonschema/1-0-0', '/sku', true, 'Incompatible type change String to Long at /sku'],
        ['iglu:com.acme/checkout/jsonschema/1-0-1', 'iglu:com.acme/checkout/jsonschema/1-0-0', '/currency', false, 'Schema key addition at /currency'],
      ]);
      expect(report.versions.map((v: Record<string, unknown>) => [v.schema, v.breaking, v.chosen, v.smallest, v.suggested])).toEqual([
        ['iglu:com.acme/cart/jsonschema/1-0-1', true, 'ADDITION', 'MODEL', '2-0-0'],
        ['iglu:com.acme/checkout/jsonschema/1-0-1', false, 'ADDITION', 'ADDITION', null],
      ]);

      const text = await runCli('verify-schemas', ['--base', 'main', 'schemas'], { cwd: dir });
      expect(text.stdout.split('\n')).toEqual([
        'changed since main:',
        '  added    schemas/com.acme/cart/jsonschema/1-0-1',
        '  modified schemas/com.acme/checkout/jsonschema/1-0-0',
        '  added    schemas/com.acme/checkout/jsonschema/1-0-1',
        'schemas/com.acme/checkout/jsonschema/1-0-0: [error] a published version was edited in place (at /properties/total/minimum): publish the change as a new version',
        'schemas/com.acme/cart/jsonschema/1-0-1: iglu:com.acme/cart/jsonschema/1-0-1 (merged into the model up to 1-0-0)',
        '  breaking Incompatible type change String to Long at /sku',
        '  SchemaVer: ADDITION chosen, MODEL is the smallest correct bump (2-0-0): Incompatible type change String to Long at /sku; /properties/sku: the type changed from string to integer',
        'schemas/com.acme/checkout/jsonschema/1-0-1: iglu:com.acme/checkout/jsonschema/1-0-1 (merged into the model up to 1-0-0)',
        '  ok       Schema key addition at /currency',
        '2 versions checked (parquet): 1 breaking, 1 edited in place',
        '',
      ]);

      const github = await runCli('verify-schemas', ['--base', 'main', '--reporter', 'github', 'schemas'], { cwd: dir });
      expect(github.stdout.split('\n')).toEqual([
        '::error file=schemas/com.acme/checkout/jsonschema/1-0-0,title=published com.acme/checkout/jsonschema/1-0-0 modified::a published version was edited in place (at /properties/total/minimum): publish the change as a new version',
        '::error file=schemas/com.acme/cart/jsonschema/1-0-1,line=12,title=breaking change (parquet)::Incompatible type change String to Long at /sku (compared with the model up to iglu:com.acme/cart/jsonschema/1-0-0)',
        '::warning file=schemas/com.acme/cart/jsonschema/1-0-1,line=1,title=SchemaVer::SchemaVer: ADDITION chosen, MODEL is the smallest correct bump (2-0-0): Incompatible type change String to Long at /sku; /properties/sku: the type changed from string to integer',
        '2 versions checked (parquet): 1 breaking, 1 edited in place',
        '',
      ]);
      expect(github.code).toBe(1);
    }));

  it('exits 0 when only compatible versions were added, and reports a deleted published version', () =>
    withTempDir(async (dir) => {
      await published(dir);
      await write(join(dir, 'schemas'), { 'com.acme/cart/jsonschema/1-0-1': schema('cart', '1-0-1', { sku: { type: 'string', maxLength: 40 } }) });
      const ok = await runCli('verify-schemas', ['--base', 'HEAD', '--target', 'redshift', '--json', 'schemas'], { cwd: dir });
      expect([ok.code, JSON.parse(ok.stdout).changes.map((c: Record<string, unknown>) => [c.kind, c.old, c.new])]).toEqual([0, [['VarcharExtension', 'VARCHAR(20)', 'VARCHAR(40)']]]);
      await rm(join(dir, 'schemas', 'com.acme', 'checkout'), { recursive: true });
      const deleted = await runCli('verify-schemas', ['--base', 'HEAD', '--json', 'schemas'], { cwd: dir });
      expect([deleted.code, JSON.parse(deleted.stdout).edited]).toEqual([
        1,
        [{ schema: 'iglu:com.acme/checkout/jsonschema/1-0-0', file: 'schemas/com.acme/checkout/jsonschema/1-0-0', change: 'deleted', description: 'a published version was deleted' }],
      ]);
    }));

  it.each([
    [['--base', 'nope', 'schemas'], /^verify:schemas: --base nope: no such commit in /],
    [['--base', 'main', 'outside'], /^verify:schemas: --base: outside is not inside a git work tree/],
  ])('exits 2 on a git error: %p', (args, message) =>
    withTempDir(async (dir) => {
      await mkdir(join(dir, 'repo'));
      await published(join(dir, 'repo'));
      await mkdir(join(dir, 'outside'));
      const run = await runCli('verify-schemas', args, { cwd: join(dir, args[2] === 'outside' ? '' : 'repo') });
      expect(run).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(message) });
    }),
  );

  it.each([
    [['--target', 'bigquery', '.'], /--target must be parquet or redshift, got bigquery/],
    [['a', 'b'], /one repository at a time/],
  ])('exits 2 with the usage for %p', async (args, message) => {
    const run = await runCli('verify-schemas', args);
    expect(run).toMatchObject({ code: 2, stderr: expect.stringMatching(message) });
    expect(run.stderr).toMatch(/Usage: npm run verify:schemas/);
  });
});
