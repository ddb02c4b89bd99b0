// The verdicts of Snowplow's own validator (iglu-scala-client 4.x on networknt json-schema-validator 1.0.x,
// what Enrich and Micro run), case by case, through the library and through the `validate` command.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { IgluValidator, parseJsonExact } from '../plugin/iglu/index.js';
import { IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { withTempDir } from './helpers/capture.js';
import { runCli } from './helpers/run-cli.js';

const validator = new IgluValidator();
const CART = 'iglu:com.snowplowanalytics.snowplow.ecommerce/cart/jsonschema/1-0-0';
/** Validates the JSON text of a self-describing instance, as the command and the collector do. */
const verdict = (text: string) => validator.validate(parseJsonExact(text));
const cart = (total: string) => `{"schema":"${CART}","data":{"total_value":${total},"currency":"EUR"}}`;

/** A repository with one schema of ours, `com.acme/thing/jsonschema/1-0-0`, whose `properties` are given. */
async function acmeRepository(dir: string, properties: Record<string, unknown>): Promise<string> {
  const folder = join(dir, 'repo', 'com.acme', 'thing', 'jsonschema');
  await mkdir(folder, { recursive: true });
  const schema = { $schema: IGLU_META_SCHEMA_URI, self: { vendor: 'com.acme', name: 'thing', format: 'jsonschema', version: '1-0-0' }, type: 'object', properties };
  await writeFile(join(folder, '1-0-0'), JSON.stringify(schema));
  return join(dir, 'repo');
}
const THING = 'iglu:com.acme/thing/jsonschema/1-0-0';

describe('numbers are decimals, judged on their JSON text (networknt on Jackson BigDecimal)', () => {
  it.each(['19.99', '0.07', '0.29', '0', '12', '1e-2'])('multipleOf 0.01 is exact: a cart of %s is valid (Iglu Central ecommerce cart 1-0-0)', (total) => {
    expect(verdict(cart(total))).toMatchObject({ valid: true, errors: [] });
  });

  it.each(['19.999', '0.001', '1e-3'])('a cart of %s is not a multiple of 0.01', (total) => {
    expect(verdict(cart(total)).errors).toEqual([expect.objectContaining({ path: '/data/total_value', keyword: 'multipleOf' })]);
  });

  it.each(['1.0', '1e2', '1.0000000000000001', '1E0', '-0.0', '1e400', '-1E+400', '2.5e400'])(
    'type integer refuses %s: a number with a fraction or exponent part is not an integer, however it rounds (validate on parseJsonExact, and validateJson)',
    (n) =>
      withTempDir(async (dir) => {
        const repo = await acmeRepository(dir, { n: { type: 'integer' } });
        const local = new IgluValidator({ repositories: [repo] });
        const text = `{"schema":"${THING}","data":{"n":${n}}}`;
        const refused = [expect.objectContaining({ path: '/data/n', keyword: 'type', message: 'expected integer, found number' })];
        expect(local.validate(parseJsonExact(text)).errors).toEqual(refused);
        expect(local.validateJson(text).errors).toEqual(refused);
      }),
  );

  it.each(['5', '-7', '0', '12345678901234567890', '1'.repeat(400)])('type integer accepts %s (an integer of any size, as BigInteger)', (n) =>
    withTempDir(async (dir) => {
      const repo = await acmeRepository(dir, { n: { type: ['integer', 'null'] } });
      const local = new IgluValidator({ repositories: [repo] });
      const text = `{"schema":"${THING}","data":{"n":${n}}}`;
      expect(local.validate(parseJsonExact(text)).valid).toBe(true);
      expect(local.validateJson(text).valid).toBe(true);
    }),
  );

  it('keeps the number texts through the validate command, NDJSON and tracker payloads (co/cx decoded) alike', () =>
    withTempDir(async (dir) => {
      const repo = await acmeRepository(dir, { n: { type: 'integer' } });
      const contexts = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [{ schema: THING, data: { n: 1 } }] }).replace('"n":1', '"n":1.0');
      const payload = { e: 'pv', tv: 'node-4.8.0', p: 'srv', co: contexts };
      const lines = [`{"schema":"${THING}","data":{"n":1.0}}`, `{"schema":"${THING}","data":{"n":1}}`, JSON.stringify(payload), cart('19.99')];
      const run = await runCli('validate', ['--schemas', repo, '--json', '-'], { stdin: `${lines.join('\n')}\n` });
      const report = JSON.parse(run.stdout) as { results: Array<{ valid: boolean; errors: Array<{ path: string }> }> };
      expect(report.results.map((r) => r.valid)).toEqual([false, true, false, true]);
      expect(report.results[2]!.errors.map((e) => e.path)).toEqual(['/co/data/0/data/n']);
      expect(run.code).toBe(1);
    }),
  );
});

describe("formats as Snowplow checks them (networknt's format validators)", () => {
  const atFormat = (format: string, value: string) =>
    withTempDir(async (dir) => {
      const repo = await acmeRepository(dir, { v: { type: 'string', format } });
      return new IgluValidator({ repositories: [repo] }).validate({ schema: THING, data: { v: value } }).valid;
    });

  it.each([
    ['2026-01-01T00:00:00Z', true],
    ['2026-01-01T00:00:00.123+02:00', true],
    ['2026-01-01T00:00:00+0200', false], // RFC 3339 time-numoffset is +hh:mm
    ['2026-01-01T00:00:00+02', false],
    ['2026-01-01T00:00:00-00:00', false], // RFC 3339 4.3: unknown local offset
    ['2026-01-01T00:00:00', false], // no offset
    ['2026-02-30T00:00:00Z', false],
    ['2026-01-01 00:00:00Z', true], // ethlo's ITU parser takes T, t or a space at position 10
    ['2026-01-01t00:00:00.5+01:00', true],
    ['2026-01-01_00:00:00Z', false],
    ['2026-01-01  00:00:00Z', false],
  ])('date-time %s: %s (RFC 3339 as ethlo reads it)', async (value, valid) => {
    expect(await atFormat('date-time', value)).toBe(valid);
  });

  it.each([
    ['123e4567-e89b-12d3-a456-426614174000', true],
    ['urn:uuid:123e4567-e89b-12d3-a456-426614174000', false],
    ['{123e4567-e89b-12d3-a456-426614174000}', false],
  ])('uuid %s: %s (no prefixes)', async (value, valid) => {
    expect(await atFormat('uuid', value)).toBe(valid);
  });

  it.each([
    ['example.com', true],
    ['example.com.', false],
    ['-bad.example.com', false],
  ])('hostname %s: %s (no trailing dot)', async (value, valid) => {
    expect(await atFormat('hostname', value)).toBe(valid);
  });

  it('an unknown format passes', async () => {
    expect(await atFormat('no-such-format', 'anything')).toBe(true);
  });
});

describe("the verdicts that differed from Snowplow's validator, through the validate command", () => {
  it('date-time takes a space between date and time; 1e400 is a decimal, not an integer', () =>
    withTempDir(async (dir) => {
      const repo = await acmeRepository(dir, { dt: { type: 'string', format: 'date-time' }, i: { type: 'integer' } });
      const lines = [`{"schema":"${THING}","data":{"dt":"2020-01-01 00:00:00Z"}}`, `{"schema":"${THING}","data":{"i":1e400}}`, `{"schema":"${THING}","data":{"i":1}}`];
      const run = await runCli('validate', ['--schemas', repo, '--json', '-'], { stdin: `${lines.join('\n')}\n` });
      const report = JSON.parse(run.stdout) as { results: Array<{ valid: boolean; errors: Array<{ path: string; keyword: string }> }> };
      expect(report.results.map((r) => r.valid)).toEqual([true, false, true]);
      expect(report.results[1]!.errors).toEqual([expect.objectContaining({ path: '/data/i', keyword: 'type' })]);
      expect(run.code).toBe(1);
    }),
  );
});

describe('remote $ref (iglu-scala-client resolves none: they match anything)', () => {
  it('an http $ref matches anything, and the report notes that it was not checked', () =>
    withTempDir(async (dir) => {
      const ref = 'http://iglucentral.com/schemas/com.acme/elsewhere/jsonschema/1-0-0#';
      const repo = await acmeRepository(dir, { thing: { $ref: ref } });
      const report = new IgluValidator({ repositories: [repo] }).validate({ schema: THING, data: { thing: 42 } });
      expect(report).toMatchObject({ valid: true, errors: [] });
      expect(report.notes).toEqual([expect.stringContaining(`$ref ${ref} was not checked`)]);
    }),
  );

  it("the vendored sauna command (an http $ref to Iglu Central's instance-iglu-only) validates", () => {
    const instance = {
      schema: 'iglu:com.snowplowanalytics.sauna.commands/command/jsonschema/1-0-0',
      data: {
        envelope: { schema: 'iglu:com.snowplowanalytics.sauna.commands/envelope/jsonschema/1-0-0', data: { commandId: '123e4567-e89b-12d3-a456-426614174000', whenCreated: '2026-01-01T00:00:00Z', execution: { semantics: 'AT_LEAST_ONCE', timeToLive: null }, tags: {} } },
        command: { schema: 'iglu:com.acme/anything/jsonschema/1-0-0', data: {} },
      },
    };
    const report = validator.validate(instance);
    expect(report.errors).toEqual([]);
    expect(report.notes.length).toBeGreaterThan(0);
  });
});

describe('a verdict for every input', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('an instance a few thousand levels deep gets a per-line "too deep" verdict; the lines around it are judged', async () => {
    const deep = `{"schema":"${CART}","data":{"total_value":1,"currency":"EUR","x":${nested(5000)}}}`;
    const deeper = `{"schema":"${CART}","data":${nested(200_000)}}`;
    const run = await runCli('validate', ['--json', '-'], { stdin: [cart('1'), deep, deeper, cart('2')].join('\n') });
    const report = JSON.parse(run.stdout) as { results: Array<{ line: number; valid: boolean; errors: Array<{ keyword: string; message: string }> }>; valid: number; invalid: number };
    expect(report.results.map((r) => [r.line, r.valid])).toEqual([[1, true], [2, false], [3, false], [4, true]]);
    expect(report.results[1]!.errors).toEqual([expect.objectContaining({ keyword: 'depth', message: expect.stringContaining('too deep') })]);
    expect(report.results[2]!.errors).toEqual([expect.objectContaining({ keyword: 'depth' })]);
    expect(run.code).toBe(1);
  });

  it('follows symbolic links to files and folders, and reports a loop instead of walking it forever', () =>
    withTempDir(async (dir) => {
      await mkdir(join(dir, 'real'));
      await writeFile(join(dir, 'real', 'a.ndjson'), `${cart('1')}\n`);
      await mkdir(join(dir, 'in'));
      await symlink(join(dir, 'real', 'a.ndjson'), join(dir, 'in', 'linked.ndjson'));
      await symlink(join(dir, 'real'), join(dir, 'in', 'linked-folder'));
      const followed = await runCli('validate', [join(dir, 'in')]);
      expect(followed).toMatchObject({ code: 0, stdout: '2 valid, 0 invalid\n' });
      await symlink(join(dir, 'in'), join(dir, 'in', 'loop'));
      const looped = await runCli('validate', [join(dir, 'in')]);
      expect(looped.code).toBe(2);
      expect(looped.stdout).toMatch(/a symbolic link loop: .*loop leads back to/);
    }),
  );

  it('a --schemas folder that does not exist exits 2, naming it', async () => {
    const run = await runCli('validate', ['--schemas', '/nonexistent/schemas', '-'], { stdin: cart('1') });
    expect(run).toMatchObject({ code: 2, stderr: 'validate: --schemas /nonexistent/schemas: no such file or directory: /nonexistent/schemas\n' });
  });

  it('a folder with no instance in it is an error, not a pass', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'notes.txt'), 'no instances here');
      const run = await runCli('validate', [dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`validate: no instance found in ${dir}`);
    }),
  );
});
