import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CLIENT_SESSION_SCHEMA, IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { runCli } from './helpers/run-cli.js';
import { withTempDir } from './helpers/capture.js';

const entity = { userId: 'c1ba47c1-241a-497f-8d69-3eddde4d3d02', sessionId: '192b85ea-81f2-42e2-908c-0fc34861c93f', sessionIndex: 1, storageMechanism: 'SQLITE' };
const good = JSON.stringify({ schema: CLIENT_SESSION_SCHEMA, data: entity });
const bad = JSON.stringify({ schema: CLIENT_SESSION_SCHEMA, data: { ...entity, sessionIndex: '1' } });

describe('validate', () => {
  it('exits 0 and prints a summary when everything is valid', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'events.ndjson'), `${good}\n\n${good}\n`);
      const run = await runCli('validate', ['events.ndjson'], { cwd: dir });
      expect(run).toMatchObject({ code: 0, stdout: '2 valid, 0 invalid\n', stderr: '' });
    }));

  it('exits 1 with one line per invalid instance: file:line, pointer, message, schema', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'events.ndjson'), `${good}\n${bad}\nnot json\n`);
      const run = await runCli('validate', ['events.ndjson'], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stdout.split('\n')).toEqual([
        `events.ndjson:2: /data/sessionIndex: expected integer, found string [${CLIENT_SESSION_SCHEMA}]`,
        expect.stringMatching(/^events\.ndjson:3: invalid JSON: /),
        '1 valid, 2 invalid',
        '',
      ]);
    }));

  it('prints the JSON report, with or without the valid results', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'a.json'), `[\n  ${good},\n  ${bad}\n]\n`);
      const all = await runCli('validate', ['--json', 'a.json'], { cwd: dir });
      expect(all.code).toBe(1);
      expect(JSON.parse(all.stdout)).toEqual({
        valid: 1,
        invalid: 1,
        results: [
          { file: 'a.json', line: 2, schema: CLIENT_SESSION_SCHEMA, valid: true, errors: [] },
          { file: 'a.json', line: 3, schema: CLIENT_SESSION_SCHEMA, valid: false, errors: [{ path: '/data/sessionIndex', keyword: 'type', message: 'expected integer, found string' }] },
        ],
      });
      const onlyInvalid = JSON.parse((await runCli('validate', ['--json', '--only-invalid', 'a.json'], { cwd: dir })).stdout);
      expect(onlyInvalid.results.map((r: { line: number }) => r.line)).toEqual([3]);
    }));

  it('reads standard input as NDJSON, and walks folders', () =>
    withTempDir(async (dir) => {
      const stdin = await runCli('validate', ['-'], { stdin: `${good}\n${good}` });
      expect(stdin).toMatchObject({ code: 0, stdout: '2 valid, 0 invalid\n' });
      await mkdir(join(dir, 'deep', 'er'), { recursive: true });
      await writeFile(join(dir, 'deep', 'one.json'), good);
      await writeFile(join(dir, 'deep', 'er', 'two.jsonl'), bad);
      await writeFile(join(dir, 'deep', 'notes.txt'), 'not an instance file');
      const walked = await runCli('validate', ['--json', 'deep'], { cwd: dir });
      expect(JSON.parse(walked.stdout).results.map((r: { file: string; valid: boolean }) => [r.file, r.valid])).toEqual([
        [join('deep', 'er', 'two.jsonl'), false],
        [join('deep', 'one.json'), true],
      ]);
    }));

  it('reports garbage, empty files and missing paths one by one, goes on, and exits 2 for I/O errors', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'garbage.ndjson'), Buffer.from([0, 159, 146, 150, 10, 255, 254, 10]));
      await writeFile(join(dir, 'empty.json'), '');
      await writeFile(join(dir, 'ok.ndjson'), good);
      const run = await runCli('validate', ['--json', 'garbage.ndjson', 'empty.json', 'missing.ndjson', 'ok.ndjson'], { cwd: dir });
      expect(run.code).toBe(2);
      expect(run.stderr).toBe('');
      const report = JSON.parse(run.stdout);
      expect(report.results.map((r: { file: string; line: number; valid: boolean; errors: Array<{ keyword: string }> }) => [r.file, r.line, r.valid, r.errors[0]?.keyword])).toEqual([
        ['garbage.ndjson', 1, false, 'json'],
        ['garbage.ndjson', 2, false, 'json'],
        ['empty.json', 1, false, 'empty'],
        ['missing.ndjson', 0, false, 'io'],
        ['ok.ndjson', 1, true, undefined],
      ]);
      expect(report).toMatchObject({ valid: 1, invalid: 4 });
    }));

  it('uses the repositories given with --schemas', () =>
    withTempDir(async (dir) => {
      await mkdir(join(dir, 'repo', 'com.acme', 'thing', 'jsonschema'), { recursive: true });
      await writeFile(join(dir, 'repo', 'com.acme', 'thing', 'jsonschema', '1-0-0'), JSON.stringify({ type: 'object', required: ['n'] }));
      const instance = JSON.stringify({ schema: 'iglu:com.acme/thing/jsonschema/1-0-0', data: {} });
      const without = await runCli('validate', ['-'], { stdin: instance, cwd: dir });
      expect(without.stdout).toMatch(/schema iglu:com.acme\/thing\/jsonschema\/1-0-0 not found in/);
      const withRepo = await runCli('validate', ['--schemas', 'repo', '-'], { stdin: instance, cwd: dir });
      expect(withRepo).toMatchObject({ code: 1, stdout: expect.stringMatching(/<stdin>:1: \/data\/n: is missing but it is required/) });
    }));

  it.each([
    [[], /no input/],
    [['--bogus', 'x'], /Unknown option '--bogus'/],
    [['--format', 'xml', 'x'], /--format must be json or ndjson, got xml/],
    [['-', '-'], /standard input \(-\) can be read only once/],
  ])('exits 2 with the usage for %p', async (args, message) => {
    const run = await runCli('validate', args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Usage: npm run validate/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('lint:schemas', () => {
  const schema = (overrides: Record<string, unknown> = {}) => ({
    $schema: IGLU_META_SCHEMA_URI,
    description: 'A thing',
    self: { vendor: 'com.acme', name: 'thing', format: 'jsonschema', version: '1-0-0' },
    type: 'object',
    properties: { name: { description: 'Its name', type: 'string', maxLength: 10 } },
    additionalProperties: false,
    ...overrides,
  });
  const repo = async (dir: string, content: unknown) => {
    await mkdir(join(dir, 'com.acme', 'thing', 'jsonschema'), { recursive: true });
    await writeFile(join(dir, 'com.acme', 'thing', 'jsonschema', '1-0-0'), JSON.stringify(content));
  };

  it('exits 0 on a clean repository and 1 with a line per issue', () =>
    withTempDir(async (dir) => {
      await repo(dir, schema());
      expect(await runCli('lint-schemas', ['.'], { cwd: dir })).toMatchObject({ code: 0, stdout: '1 schemas, 0 failed, 0 issues\n' });
      await repo(dir, schema({ description: undefined }));
      const run = await runCli('lint-schemas', ['.'], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('com.acme/thing/jsonschema/1-0-0: [Info] description: The schema is missing the "description" property\n1 schemas, 1 failed, 1 issues\n');
    }));

  it('prints the JSON report and honours --skip-checks', () =>
    withTempDir(async (dir) => {
      await repo(dir, schema({ description: undefined }));
      const run = await runCli('lint-schemas', ['--json', '.'], { cwd: dir });
      expect(JSON.parse(run.stdout)).toEqual({
        schemas: 1,
        failed: 1,
        issues: [{ file: 'com.acme/thing/jsonschema/1-0-0', linter: 'description', level: 'Info', message: 'The schema is missing the "description" property', path: '' }],
      });
      expect(await runCli('lint-schemas', ['--skip-checks', 'description,optionalNull', '.'], { cwd: dir })).toMatchObject({ code: 0 });
    }));

  it.each([
    [['--skip-checks', 'schemaUri'], /"schemaUri" is an Error-level linter and cannot be skipped/],
    [['--skip-checks', 'nope'], /unknown linter "nope"/],
    [['--skip-schemas', 'com.acme/x'], /"com.acme\/x" is not an Iglu URI/],
    [['a', 'b'], /one repository at a time/],
  ])('exits 2 with the usage for %p', async (args, message) => {
    const run = await runCli('lint-schemas', args);
    expect(run).toMatchObject({ code: 2, stderr: expect.stringMatching(message) });
    expect(run.stderr).toMatch(/Usage: npm run lint:schemas/);
  });

  it('exits 2 when the repository cannot be read', async () => {
    const run = await runCli('lint-schemas', ['/nonexistent/repo']);
    expect(run).toMatchObject({ code: 2, stderr: 'lint:schemas: cannot read /nonexistent/repo: no such file or directory: /nonexistent/repo\n' });
  });
});

describe('every command', () => {
  it.each([
    ['validate', [], /^Usage: /],
    ['lint-schemas', [], /^Usage: npm run lint:schemas/],
    ['verify-schemas', [], /^Usage: /],
    ['collector', [], /^Usage: /],
    ['collector', ['wait'], /^Usage: npx snowplow-collector wait/],
    ['demo', [], /^Usage: /],
  ])('%s %p --help and -h print the usage on stdout and exit 0, running nothing', async (script, before, usage) => {
    for (const flag of ['--help', '-h']) {
      const run = await runCli(script, [...before, flag]);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(usage);
      expect(run.stdout).toMatch(/-h, --help/);
    }
  });

  it.each([
    ['collector', ['extra'], /unexpected argument extra/],
    ['collector', ['wait', 'extra'], /unexpected argument extra/],
    ['demo', ['extra'], /unexpected argument extra/],
    ['verify-schemas', ['a', 'b'], /one repository at a time, got 2/],
  ])('%s %p: an argument it does not take exits 2 with the usage', async (script, args, message) => {
    const run = await runCli(script, args);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Usage: /);
  });

  it.each(['validate', 'collector'])('%s --max-json-depth out of range exits 2 naming the flag, not the option inside', async (script) => {
    for (const depth of ['501', '0', 'deep']) {
      const run = await runCli(script, ['--max-json-depth', depth, ...(script === 'validate' ? ['-'] : ['--port', '0'])], { stdin: '{}' });
      expect(run).toMatchObject({ code: 2, stdout: '' });
      expect(run.stderr.split('\n')[0]).toBe(`${script}: --max-json-depth must be a whole number from 1 to 500, got ${depth}`);
    }
  });
});
