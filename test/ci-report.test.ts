// CI-native reports of validate, lint:schemas and verify:schemas (--reporter github, --junit FILE), through
// the real built commands. GitHub's escaping rules: actions/toolkit packages/core/src/command.ts.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CLIENT_SESSION_SCHEMA, IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { escapeData, escapeProperty, githubAnnotation, xmlText } from '../scripts/lib/ci-report.js';
import { withTempDir } from './helpers/capture.js';
import { runCli } from './helpers/run-cli.js';

const entity = { userId: 'c1ba47c1-241a-497f-8d69-3eddde4d3d02', sessionId: '192b85ea-81f2-42e2-908c-0fc34861c93f', sessionIndex: 1, storageMechanism: 'SQLITE' };
const good = JSON.stringify({ schema: CLIENT_SESSION_SCHEMA, data: entity });
const bad = JSON.stringify({ schema: CLIENT_SESSION_SCHEMA, data: { ...entity, storageMechanism: '50%<&>"\'\u0001' } });

async function write(dir: string, files: Record<string, unknown>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

describe('GitHub workflow-command escaping', () => {
  it('escapes %, CR and LF in messages, and also : and , in properties', () => {
    expect(escapeData('50% done\r\nnext: a, b')).toBe('50%25 done%0D%0Anext: a, b');
    expect(escapeProperty('a,b:c%\n')).toBe('a%2Cb%3Ac%25%0A');
    expect(githubAnnotation({ file: 'x,y.json', line: 3, title: 'a: b', message: 'line 1\nline 2' })).toBe('::error file=x%2Cy.json,line=3,title=a%3A b::line 1%0Aline 2');
    expect(githubAnnotation({ message: 'no place', level: 'warning' })).toBe('::warning::no place');
  });

  it('writes XML text escaped, and characters XML cannot hold as \\uXXXX', () => {
    expect(xmlText('<a href="x">&\'\u0001\uD800</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;\\u0001\\ud800&lt;/a&gt;');
  });
});

describe('validate', () => {
  it('--reporter github: one ::error per invalid instance, with file= and line=, instead of the text lines', () =>
    withTempDir(async (dir) => {
      await write(dir, { 'a,b:c.ndjson': `${good}\n${bad}\n` });
      const run = await runCli('validate', ['--reporter', 'github', 'a,b:c.ndjson'], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stdout.split('\n')).toEqual([
        `::error file=a%2Cb%3Ac.ndjson,line=2,title=invalid instance (enum)::/data/storageMechanism: expected one of "SQLITE", "COOKIE_1", "COOKIE_3", "LOCAL_STORAGE", "FLASH_LSO", found "50%25<&>\\"'\\u0001" [${CLIENT_SESSION_SCHEMA}]`,
        '1 valid, 1 invalid',
        '',
      ]);
    }));

  it('--junit FILE: one testcase per instance, a <failure> per invalid one, escaped; the usual output unchanged', () =>
    withTempDir(async (dir) => {
      await write(dir, { 'events.ndjson': `${good}\n${bad}\n` });
      const run = await runCli('validate', ['--junit', 'report.xml', 'events.ndjson'], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^events\.ndjson:2: .*\n1 valid, 1 invalid\n$/);
      const xml = (await readFile(join(dir, 'report.xml'), 'utf8')).replace(/ time="[\d.]+"/g, '');
      const message = `/data/storageMechanism: expected one of ${['SQLITE', 'COOKIE_1', 'COOKIE_3', 'LOCAL_STORAGE', 'FLASH_LSO'].map((v) => `&quot;${v}&quot;`).join(', ')}, found &quot;50%&lt;&amp;&gt;\\&quot;&apos;\\u0001&quot; [${CLIENT_SESSION_SCHEMA}]`;
      expect(xml).toBe(
        [
          '<?xml version="1.0" encoding="UTF-8"?>',
          '<testsuites name="validate" tests="2" failures="1" errors="0">',
          '  <testsuite name="validate" tests="2" failures="1" errors="0">',
          '    <testcase name="events.ndjson:1" classname="events.ndjson"/>',
          '    <testcase name="events.ndjson:2" classname="events.ndjson">',
          `      <failure message="${message}" type="invalid instance (enum)">events.ndjson:2: [invalid instance (enum)] ${message}</failure>`,
          '    </testcase>',
          '  </testsuite>',
          '</testsuites>',
          '',
        ].join('\n'),
      );
    }));

  it('an unreadable input is a JUnit <error>, and the command still exits 2', () =>
    withTempDir(async (dir) => {
      const run = await runCli('validate', ['--junit', 'report.xml', 'missing.ndjson'], { cwd: dir });
      expect(run.code).toBe(2);
      expect(await readFile(join(dir, 'report.xml'), 'utf8')).toMatch(/tests="1" failures="0" errors="1"[\s\S]*<testcase name="missing.ndjson:0" classname="missing.ndjson">\n {6}<error message="no such file or directory: missing.ndjson" type="invalid instance \(io\)">/);
    }));

  it.each([
    [['--reporter', 'xml', '-'], /--reporter must be text or github, got xml/],
    [['--reporter', 'github', '--json', '-'], /--reporter github and --json both print the report: choose one/],
    [['--junit', 'no/such/folder/r.xml', '-'], /--junit no\/such\/folder\/r.xml: cannot write the report: no such file or directory/],
  ])('exits 2 for %p', async (args, message) => {
    const run = await runCli('validate', args, { stdin: good });
    expect(run).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(message) });
  });
});

describe('lint:schemas', () => {
  const schema = { $schema: IGLU_META_SCHEMA_URI, description: 'A thing', self: { vendor: 'com.acme', name: 'thing', format: 'jsonschema', version: '1-0-0' }, type: 'object', properties: { name: { type: 'string', maxLength: 10 } }, additionalProperties: false };

  it('--reporter github points each issue at its line; --junit has one testcase per schema file', () =>
    withTempDir(async (dir) => {
      await write(dir, {
        'repo/com.acme/thing/jsonschema/1-0-0': schema,
        'repo/com.acme/other/jsonschema/1-0-0': { ...schema, self: { ...schema.self, name: 'other' }, properties: { name: { description: 'Its name', type: 'string', maxLength: 10 } } },
      });
      const run = await runCli('lint-schemas', ['--reporter', 'github', '--junit', 'lint.xml', 'repo'], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stdout.split('\n')).toEqual([
        '::error file=repo/com.acme/thing/jsonschema/1-0-0,line=12,title=description::[Info] The schema is missing the "description" property (at /properties/name)',
        '2 schemas, 1 failed, 1 issues',
        '',
      ]);
      const xml = await readFile(join(dir, 'lint.xml'), 'utf8');
      expect(xml).toMatch(/<testsuites name="lint:schemas" tests="2" failures="1" errors="0"/);
      expect(xml.match(/<testcase name="[^"]+"/g)).toEqual(['<testcase name="repo/com.acme/other/jsonschema/1-0-0"', '<testcase name="repo/com.acme/thing/jsonschema/1-0-0"']);
    }));
});

describe('verify:schemas', () => {
  it('--junit: one testcase per version checked, the breaking one failing', () =>
    withTempDir(async (dir) => {
      const version = (v: string, type: string) => ({ ...schema(v), properties: { id: { type } } });
      const schema = (v: string) => ({ $schema: IGLU_META_SCHEMA_URI, self: { vendor: 'com.test', name: 'test', format: 'jsonschema', version: v }, type: 'object', additionalProperties: false });
      await write(dir, { 'repo/com.test/test/jsonschema/1-0-0': version('1-0-0', 'string'), 'repo/com.test/test/jsonschema/1-0-1': version('1-0-1', 'number') });
      const run = await runCli('verify-schemas', ['--junit', 'verify.xml', 'repo'], { cwd: dir });
      expect(run.code).toBe(1);
      const xml = await readFile(join(dir, 'verify.xml'), 'utf8');
      expect(xml).toMatch(/<testsuites name="verify:schemas" tests="2" failures="1" errors="0"/);
      expect(xml).toContain(
        '<testcase name="iglu:com.test/test/jsonschema/1-0-1" classname="verify:schemas (parquet)">\n      <failure message="Incompatible type change String to Double at /id (compared with the model up to iglu:com.test/test/jsonschema/1-0-0)" type="breaking change (parquet)">repo/com.test/test/jsonschema/1-0-1:12: [breaking change (parquet)] Incompatible type change String to Double at /id',
      );
    }));
});
