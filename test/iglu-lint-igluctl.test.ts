// `lint:schemas` against igluctl's own rules, each cited from its source: igluctl (commands/Lint.scala,
// File.scala, Common.scala) and schema-ddl (jsonschema/Linter.scala, bigquery/Field.scala).
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { lintRepository, PACKAGE_SCHEMAS } from '../plugin/iglu/index.js';
import { IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { withTempDir } from './helpers/capture.js';
import { runCli } from './helpers/run-cli.js';
import { IGLU_CENTRAL_SKIP_CHECKS } from './helpers/iglu-central.js';

type Schema = Record<string, any>;

function schemaAt(version: string, name = 'thing', extra: Schema = {}): Schema {
  return {
    $schema: IGLU_META_SCHEMA_URI,
    description: 'A thing',
    self: { vendor: 'com.acme', name, format: 'jsonschema', version },
    type: 'object',
    properties: { name: { description: 'Its name', type: ['string', 'null'], maxLength: 10 } },
    additionalProperties: false,
    ...extra,
  };
}

async function write(dir: string, files: Record<string, unknown>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
}

const lint = (files: Record<string, unknown>, options: Parameters<typeof lintRepository>[1] = {}) =>
  withTempDir(async (dir) => {
    await write(dir, files);
    return lintRepository(dir, options);
  });
const CI_COMMAND = ['--skip-checks', IGLU_CENTRAL_SKIP_CHECKS.join(',')];

describe('which files igluctl lints (File.filterJsonSchemas, File.listDirectory)', () => {
  it('opens only .../<vendor>/<name>/jsonschema/<version>: Avro, Thrift, protobuf, READMEs and hidden files are never read', async () => {
    const report = await lint({
      'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0'),
      'com.acme/thing/avro/1-0-0': '{ not json at all',
      'com.acme/thing/thrift/1-0-0': 'struct Thing {}',
      'com.acme/thing/protobuf/1-0-0': 'message Thing {}',
      'README.md': '# schemas',
      'com.acme/.hidden/jsonschema/1-0-0': '{ not json',
      'com.acme/thing/jsonschema/.1-0-1.swp': '{ not json',
    });
    expect(report).toEqual({ schemas: 1, failed: 0, issues: [] });
  });

  it('accepts a single schema file as input (a lone schema must be 1-0-0: Common.checkSchemasConsistency)', () =>
    withTempDir(async (dir) => {
      await write(dir, { 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0'), 'com.acme/other/jsonschema/1-0-1': schemaAt('1-0-1', 'other') });
      expect(await runCli('lint-schemas', [join(dir, 'com.acme/thing/jsonschema/1-0-0')])).toMatchObject({ code: 0, stdout: '1 schemas, 0 failed, 0 issues\n' });
      const lone = await runCli('lint-schemas', [join(dir, 'com.acme/other/jsonschema/1-0-1')]);
      expect(lone.code).toBe(1);
      expect(lone.stdout).toContain('contains a schema whose version is not 1-0-0');
    }),
  );

  it('follows symbolic links (Files.isRegularFile), and reports a loop', () =>
    withTempDir(async (dir) => {
      await write(dir, { 'elsewhere/thing/jsonschema/1-0-0': schemaAt('1-0-0') });
      await mkdir(join(dir, 'repo', 'com.acme'), { recursive: true });
      await symlink(join(dir, 'elsewhere', 'thing'), join(dir, 'repo', 'com.acme', 'thing'));
      expect(await lintRepository(join(dir, 'repo'))).toEqual({ schemas: 1, failed: 0, issues: [] });
      await symlink(join(dir, 'repo'), join(dir, 'repo', 'com.acme', 'loop'));
      const looped = await lintRepository(join(dir, 'repo'));
      expect(looped.issues.map((i) => i.linter)).toEqual(['io']);
      expect(looped.issues[0]!.message).toMatch(/a symbolic link loop/);
    }),
  );
});

describe('version gaps (Common.checkSchemasConsistency) and --skip-schemas (Lint.skipSchemas)', () => {
  it('computes gaps over every schema before --skip-schemas applies, so skipping a schema cannot hide a gap', async () => {
    const files = { 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0'), 'com.acme/thing/jsonschema/1-0-2': schemaAt('1-0-2') };
    const report = await lint(files, { skipSchemas: ['iglu:com.acme/thing/jsonschema/1-0-2'] });
    expect(report.issues).toEqual([expect.objectContaining({ linter: 'schemaver', message: expect.stringContaining('Schemas of [com.acme/thing] have gaps between schema versions') })]);
  });

  it('an empty input is an error (File.extractResultFromJsonSchemas: "is empty"): exit 1', () =>
    withTempDir(async (dir) => {
      const run = await runCli('lint-schemas', [dir]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('is empty');
    }),
  );

  it('an input whose every schema is skipped is an error ("All schemas provided were also skipped"): exit 1', () =>
    withTempDir(async (dir) => {
      await write(dir, { 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0') });
      const run = await runCli('lint-schemas', ['--skip-schemas', 'iglu:com.acme/thing/jsonschema/1-0-0', dir]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('All schemas provided were also skipped');
    }),
  );
});

describe('linters as schema-ddl defines them', () => {
  it('rootObject wants type exactly "object": ["object","null"] is flagged (Linter.rootObject: type contains Type.Object)', async () => {
    const report = await lint({ 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0', 'thing', { type: ['object', 'null'] }) });
    expect(report.issues.map((i) => [i.linter, i.path])).toEqual([['rootObject', '']]);
  });

  it('rootObject takes type ["object"] as "object": schema-ddl decodes a one-element type array as that type (CommonProperties.Type)', async () => {
    const report = await lint({ 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0', 'thing', { type: ['object'] }) });
    expect(report.issues).toEqual([]);
  });

  it.each([
    ['smtp-id', 'bqDisallowedCharacters'],
    ['data.json', 'bqDisallowedCharacters'],
    ['1h', 'bqIllegalStart'],
  ])('flags %s with %s (bigquery/Field.scala: [^A-Za-z0-9_] replaced, [^A-Za-z_] first character prefixed)', async (property, linter) => {
    const schema = schemaAt('1-0-0', 'thing', { properties: { [property]: { description: 'd', type: ['string', 'null'], maxLength: 5 } } });
    const report = await lint({ 'com.acme/thing/jsonschema/1-0-0': schema }, { bigquery: true });
    expect(report.issues.map((i) => i.linter)).toEqual([linter]);
  });

  it('leaves _private and camelCase names alone, and runs no BigQuery linter unless asked (igluctl 0.10.1 has none)', async () => {
    const props = { _private: { description: 'd', type: ['string', 'null'], maxLength: 5 }, camelCase: { description: 'd', type: ['string', 'null'], maxLength: 5 } };
    expect((await lint({ 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0', 'thing', { properties: props }) }, { bigquery: true })).issues).toEqual([]);
    const dashed = { 'smtp-id': { description: 'd', type: ['string', 'null'], maxLength: 5 } };
    expect((await lint({ 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0', 'thing', { properties: dashed }) })).issues).toEqual([]);
  });

  it('never resolves $ref: a remote $ref to iglucentral.com is not an error (igluctl does not follow it)', async () => {
    const ref = { $ref: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/instance-iglu-only/jsonschema/1-0-0#' };
    const report = await lint({ 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0', 'thing', { properties: { name: { description: 'd', ...ref } } }) });
    expect(report.issues).toEqual([]);
  });

  it('a schema nested a few thousand levels deep gets an issue, not a crash', async () => {
    const levels = 3000;
    const deep = `${'{"type":"object","properties":{"x":'.repeat(levels)}{"type":"string"}${'}}'.repeat(levels)}`;
    const text = JSON.stringify(schemaAt('1-0-1', 'thing', { properties: { x: 'DEEP' } })).replace('"DEEP"', deep);
    const report = await lint({ 'com.acme/thing/jsonschema/1-0-0': schemaAt('1-0-0'), 'com.acme/thing/jsonschema/1-0-1': text });
    expect(report.issues).toEqual([expect.objectContaining({ linter: 'syntax', message: expect.stringContaining('too deep') })]);
    expect(report.schemas).toBe(1); // the other file is still linted
  });
});

describe("all of Iglu Central, with Iglu Central CI's own command", () => {
  it('lints clean: npm run lint:schemas -- --skip-checks <its list> schemas exits 0', async () => {
    const run = await runCli('lint-schemas', [...CI_COMMAND, PACKAGE_SCHEMAS]);
    expect(run).toMatchObject({ code: 0, stdout: '663 schemas, 0 failed, 0 issues\n' });
  });

  it('with --bigquery, the names BigQuery cannot hold are reported (smtp-id in SendGrid, 1h in OpenWeatherMap): exit 1', async () => {
    const run = await runCli('lint-schemas', [...CI_COMMAND, '--bigquery', '--json', PACKAGE_SCHEMAS]);
    const report = JSON.parse(run.stdout) as { issues: Array<{ linter: string; message: string }> };
    expect(run.code).toBe(1);
    expect(new Set(report.issues.map((i) => i.linter))).toEqual(new Set(['bqDisallowedCharacters', 'bqIllegalStart']));
    expect(report.issues.some((i) => i.message.includes('smtp-id'))).toBe(true);
  });
});
