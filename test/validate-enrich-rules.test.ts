// `validate` gives the collector's verdicts beyond JSON Schema: Enrich's atomic-field limits on tracker
// payloads, maxJsonDepth, superseded schemas (the report says which version was used), Micro's
// configuration file, and `--lookup`, which says where a schema comes from.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PACKAGE_SCHEMAS } from '../plugin/iglu/index.js';
import { withTempDir } from './helpers/capture.js';
import { ANYTHING, nested, staticRepository, SUPERSEDED, THING } from './helpers/enrich-fixtures.js';
import { runCli } from './helpers/run-cli.js';

const UNSTRUCT = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';
const payload = (extra: Record<string, string>) => ({ e: 'se', p: 'srv', tv: 'node-4.8.0', se_ca: 'c', se_ac: 'a', ...extra });
const unstruct = (data: unknown) => payload({ e: 'ue', ue_pr: JSON.stringify({ schema: UNSTRUCT, data: { schema: ANYTHING, data } }) });
const ndjson = (...instances: unknown[]) => `${instances.map((i) => JSON.stringify(i)).join('\n')}\n`;
const report = (stdout: string) => JSON.parse(stdout) as { results: Array<{ valid: boolean; errors: Array<{ path: string; keyword: string; message: string }>; superseded?: unknown[] }> };

describe('validate: Enrich\'s rules on tracker payloads', () => {
  it('app_id 255 characters is valid, 256 is invalid (exit 1) with an error naming the field and the limit; --accept-invalid and --config change it', () =>
    withTempDir(async (dir) => {
      const input = ndjson(payload({ aid: 'a'.repeat(255) }), payload({ aid: 'a'.repeat(256) }));
      const run = await runCli('validate', ['--json', '-'], { stdin: input });
      expect(run.code).toBe(1);
      expect(report(run.stdout).results.map((r) => r.valid)).toEqual([true, false]);
      expect(report(run.stdout).results[1]!.errors).toEqual([
        { path: '/aid', keyword: 'atomic_field_length_exceeded', message: expect.stringMatching(/^app_id: Field is longer than maximum allowed size 255 \(256 characters\)/) },
      ]);
      expect((await runCli('validate', ['--accept-invalid', '-'], { stdin: input })).code).toBe(0);
      await writeFile(join(dir, 'micro.json'), JSON.stringify({ enrich: { validation: { atomicFieldsLimits: { app_id: 300 } } } }));
      expect((await runCli('validate', ['--config', join(dir, 'micro.json'), '-'], { stdin: input })).code).toBe(0);
      await writeFile(join(dir, 'bad.json'), JSON.stringify({ enrich: { validation: { atomicFieldsLimits: { appid: 300 } } } }));
      const refused = await runCli('validate', ['--config', join(dir, 'bad.json'), '-'], { stdin: input });
      expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('validation.atomicFieldsLimits: fields [appid] are not supported')]);
    }));

  it('the same limits in a payload_data body, at the parameter\'s path', async () => {
    const body = { schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [payload({}), payload({ se_la: 'x'.repeat(5000) })] };
    const run = await runCli('validate', ['--json', '-'], { stdin: ndjson(body) });
    expect(report(run.stdout).results[0]!.errors).toEqual([expect.objectContaining({ path: '/data/1/se_la', message: expect.stringContaining('se_label: Field is longer than maximum allowed size 4096') })]);
  });

  it('maxJsonDepth: an event nested 20 levels is valid, 60 is invalid naming the depth; --max-json-depth raises it up to 500', async () => {
    const input = ndjson(unstruct(nested(20)), unstruct(nested(60)));
    const run = await runCli('validate', ['--json', '-'], { stdin: input });
    expect(report(run.stdout).results.map((r) => r.valid)).toEqual([true, false]);
    expect(report(run.stdout).results[1]!.errors).toEqual([{ path: '/ue_pr', keyword: 'depth', message: 'nested deeper than maxJsonDepth 40: maximum allowed JSON depth exceeded' }]);
    expect((await runCli('validate', ['--max-json-depth', '100', '-'], { stdin: input })).code).toBe(0);
    const tooHigh = await runCli('validate', ['--max-json-depth', '501', '-'], { stdin: input });
    expect([tooHigh.code, tooHigh.stderr]).toEqual([2, expect.stringContaining('--max-json-depth must be a whole number from 1 to 500, got 501')]);
  });
});

describe('validate: superseded schemas and --lookup', () => {
  it('validates with the superseding version and says so in the report and on stderr', () =>
    withTempDir(async (dir) => {
      await staticRepository(dir, SUPERSEDED);
      const run = await runCli('validate', ['--json', '--schemas', dir, '-'], { stdin: ndjson({ schema: THING, data: { n: 'five' } }) });
      expect(run.code).toBe(1);
      expect(report(run.stdout).results[0]).toMatchObject({ valid: false, superseded: [{ path: '/data', originalSchema: THING, validatedWith: '1-0-1' }] });
      expect(run.stderr).toContain(`validate: note: ${THING} is superseded ($supersededBy): validated with 1-0-1`);
    }));

  it('--lookup prints the schema (exit 0), or each repository\'s attempt (exit 1); a URI that is not one is a usage error (exit 2)', () =>
    withTempDir(async (dir) => {
      await staticRepository(dir, SUPERSEDED);
      const found = await runCli('validate', ['--schemas', dir, '--lookup', THING]);
      expect([found.code, JSON.parse(found.stdout)]).toEqual([0, SUPERSEDED[THING]]);
      expect(found.stderr).toContain(join(dir, 'com.acme/thing/jsonschema/1-0-0'));
      const missing = await runCli('validate', ['--schemas', dir, '--lookup', 'iglu:com.acme/missing/jsonschema/1-0-0']);
      expect([missing.code, missing.stdout]).toEqual([1, `iglu:com.acme/missing/jsonschema/1-0-0 not found:\n  ${dir}: NotFound\n  ${PACKAGE_SCHEMAS}: NotFound\n`]);
      const json = await runCli('validate', ['--json', '--lookup', 'iglu:com.acme/missing/jsonschema/1-0-0']);
      expect(JSON.parse(json.stdout)).toMatchObject({ error: 'ResolutionError', lookupHistory: [{ repository: PACKAGE_SCHEMAS, errors: [{ error: 'NotFound' }], attempts: 1 }] });
      expect((await runCli('validate', ['--lookup', 'not-a-uri'])).code).toBe(2);
    }));
});
