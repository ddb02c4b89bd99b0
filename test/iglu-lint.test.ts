import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { lintRepository, LINTERS, PACKAGE_SCHEMAS } from '../plugin/iglu/index.js';
import { IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { withTempDir } from './helpers/capture.js';
import { IGLU_CENTRAL_SKIP_CHECKS } from './helpers/iglu-central.js';



type Schema = Record<string, any>;

/** Lint-clean under every linter. */
function cleanSchema(): Schema {
  return {
    $schema: IGLU_META_SCHEMA_URI,
    description: 'A thing',
    self: { vendor: 'com.acme', name: 'thing', format: 'jsonschema', version: '1-0-0' },
    type: 'object',
    properties: {
      name: { description: 'Its name', type: 'string', maxLength: 10 },
      count: { description: 'How many', type: ['integer', 'null'], minimum: 0, maximum: 10 },
    },
    required: ['name'],
    additionalProperties: false,
  };
}

async function writeRepo(dir: string, files: Record<string, unknown>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
}

async function lintFiles(files: Record<string, unknown>, options: Parameters<typeof lintRepository>[1] = {}) {
  return withTempDir(async (dir) => {
    await writeRepo(dir, files);
    return lintRepository(dir, options);
  });
}

// Every linter, the BigQuery ones included (they are opt-in: igluctl 0.10.1 has none).
const issuesOf = async (schema: Schema) =>
  (await lintFiles({ 'com.acme/thing/jsonschema/1-0-0': schema }, { bigquery: true })).issues.map((i) => [i.linter, i.path]);

const nullableString = { description: 'd', type: ['string', 'null'], maxLength: 5 };

describe('lintRepository: igluctl linters', () => {
  it('finds nothing in a clean schema', async () => {
    expect(await issuesOf(cleanSchema())).toEqual([]);
  });

  const cases: Array<[string, (s: Schema) => void, string]> = [
    ['rootObject', (s) => delete s.type, ''],
    ['numericMinimumMaximum', (s) => (s.properties.count.minimum = 20), '/properties/count'],
    ['stringMinMaxLength', (s) => (s.properties.name.minLength = 20), '/properties/name'],
    ['stringMaxLengthRange', (s) => (s.properties.name.maxLength = 70_000), '/properties/name'],
    ['arrayMinMaxItems', (s) => (s.properties.list = { description: 'd', type: ['array', 'null'], items: nullableString, minItems: 3, maxItems: 1 }), '/properties/list'],
    ['numericProperties', (s) => (s.properties.name.minimum = 1), '/properties/name'],
    ['stringProperties', (s) => (s.properties.count.pattern = '^x$'), '/properties/count'],
    ['arrayProperties', (s) => (s.properties.name.minItems = 1), '/properties/name'],
    ['objectProperties', (s) => (s.properties.count.required = ['x']), '/properties/count'],
    ['requiredPropertiesExist', (s) => s.required.push('ghost'), ''],
    ['unknownFormats', (s) => (s.properties.name.format = 'ivp6'), '/properties/name'],
    ['numericMinMax', (s) => delete s.properties.count.maximum, '/properties/count'],
    ['stringLength', (s) => delete s.properties.name.maxLength, '/properties/name'],
    ['optionalNull', (s) => (s.properties.count.type = 'integer'), ''],
    ['description', (s) => delete s.properties.name.description, '/properties/name'],
    ['schemaUri', (s) => (s.$schema = IGLU_META_SCHEMA_URI.replace('http:', 'https:')), ''],
    ['bqDisallowedCharacters', (s) => (s.properties['a.b'] = nullableString), ''],
    ['bqIllegalStart', (s) => (s.properties['1st'] = nullableString), ''],
  ];

  it('has a case for every linter', () => {
    expect(cases.map(([name]) => name).sort()).toEqual(Object.keys(LINTERS).sort());
  });

  it.each(cases)('%s fires on its rule and nothing else does', async (linter, mutate, path) => {
    const schema = cleanSchema();
    mutate(schema);
    expect(await issuesOf(schema)).toEqual([[linter, path]]);
  });

  it('descends into anyOf, allOf, oneOf and not, which igluctl skips', async () => {
    const schema = cleanSchema();
    const branch = (format: string) => ({ description: 'd', type: 'string', maxLength: 5, format });
    schema.properties.name = { description: 'd', anyOf: [branch('uuid'), branch('bogus1')], allOf: [branch('bogus2')], oneOf: [branch('bogus3')], not: branch('bogus4') };
    expect(await issuesOf(schema)).toEqual([
      ['unknownFormats', '/properties/name/not'],
      ['unknownFormats', '/properties/name/anyOf/1'],
      ['unknownFormats', '/properties/name/allOf/0'],
      ['unknownFormats', '/properties/name/oneOf/0'],
    ]);
  });

  it('gives each issue its igluctl level', async () => {
    const schema = cleanSchema();
    schema.required.push('ghost');
    delete schema.properties.name.description;
    const { issues } = await lintFiles({ 'com.acme/thing/jsonschema/1-0-0': schema });
    expect(issues.map((i) => [i.linter, i.level])).toEqual([['description', 'Info'], ['requiredPropertiesExist', 'Error']].sort((a, b) => (a[0]! < b[0]! ? 1 : -1)));
  });

  it('skips the checks it is told to skip', async () => {
    const schema = cleanSchema();
    delete schema.properties.name.description;
    const report = await withTempDir(async (dir) => {
      await writeRepo(dir, { 'com.acme/thing/jsonschema/1-0-0': schema });
      return lintRepository(dir, { skipChecks: ['description'] });
    });
    expect(report).toEqual({ schemas: 1, failed: 0, issues: [] });
  });
});

describe('lintRepository: structure', () => {
  const at = (version: string, overrides: Schema = {}) => ({ ...cleanSchema(), self: { ...cleanSchema().self, version }, ...overrides });

  it.each([
    ['invalid JSON', { 'com.acme/thing/jsonschema/1-0-0': '{ "type": ' }, [['syntax', '']]],
    ['a draft-04 violation', { 'com.acme/thing/jsonschema/1-0-0': at('1-0-0', { type: 5 }) }, [['syntax', '/type']]],
    ['a missing self block', { 'com.acme/thing/jsonschema/1-0-0': { ...cleanSchema(), self: undefined } }, [['syntax', '/self']]],
    ['a regular expression that does not compile', { 'com.acme/thing/jsonschema/1-0-0': at('1-0-0', { properties: { name: { ...cleanSchema().properties.name, pattern: '([' } } }) }, [['syntax', '']]],
    ['a path that does not match the self block', { 'com.acme/thing/jsonschema/1-0-0': at('1-0-1') }, [['path', '/self']]],
    // igluctl File.filterJsonSchemas opens only .../<vendor>/<name>/jsonschema/<version>: nothing else is there to lint
    ['a file outside <vendor>/<name>/jsonschema/<version> only (an empty input)', { 'com.acme/thing/1-0-0': cleanSchema() }, [['input', '']]],
    // iglu-core SelfDescribingSchema.parse: a self block whose version is not SchemaVer cannot be parsed
    ['a version that is not SchemaVer', { 'com.acme/thing/jsonschema/1-0-00': at('1-0-00') }, [['syntax', '/self']]],
    ['a family without 1-0-0', { 'com.acme/thing/jsonschema/1-0-1': at('1-0-1') }, [['schemaver', '']]],
    ['a gap between versions', { 'com.acme/thing/jsonschema/1-0-0': at('1-0-0'), 'com.acme/thing/jsonschema/1-0-2': at('1-0-2') }, [['schemaver', '']]],
    ['a gap between models', { 'com.acme/thing/jsonschema/1-0-0': at('1-0-0'), 'com.acme/thing/jsonschema/3-0-0': at('3-0-0') }, [['schemaver', '']]],
  ])('reports %s', async (_name, files, expected) => {
    const report = await lintFiles(files);
    expect(report.issues.map((i) => [i.linter, i.path])).toEqual(expected);
    expect(report.failed).toBe(1);
  });

  it('accepts a family with revisions and models that follow each other', async () => {
    const files = Object.fromEntries(['1-0-0', '1-0-1', '1-1-0', '2-0-0'].map((v) => [`com.acme/thing/jsonschema/${v}`, at(v)]));
    expect(await lintFiles(files)).toEqual({ schemas: 4, failed: 0, issues: [] });
  });
});

describe("this package's schemas/", () => {
  it('holds the published schemas byte for byte (checksums taken from the reference copies)', async () => {
    const manifest = await readFile(new URL('./fixtures/vendored-schemas.sha256', import.meta.url), 'utf8');
    const entries = manifest.trim().split('\n').map((line) => line.split(/\s+/) as [string, string]);
    expect(entries.length).toBe(660); // every JSON Schema of Iglu Central R183
    for (const [sha256, file] of entries) {
      const bytes = await readFile(join(PACKAGE_SCHEMAS, file));
      expect([file, createHash('sha256').update(bytes).digest('hex')]).toEqual([file, sha256]);
    }
  });

  it("is lint-clean under Iglu Central's own --skip-checks list", async () => {
    const report = await lintRepository(PACKAGE_SCHEMAS, { skipChecks: IGLU_CENTRAL_SKIP_CHECKS });
    expect(report.issues).toEqual([]);
    expect(report.schemas).toBe(663);
  });

  it("holds this project's own schemas, clean under every linter", async () => {
    const report = await lintRepository(PACKAGE_SCHEMAS);
    const own = report.issues.filter((i) => i.file.includes('io.github.snowplow-client-session'));
    expect(own).toEqual([]);
    expect(report.schemas).toBe(663);
  });
});
