// Iglu resolver configurations (iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-x) against
// real HTTP registries on 127.0.0.1: a static repository and an Iglu Server-shaped API.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { IgluValidator, loadResolverConfig } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA, IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { withTempDir } from './helpers/capture.js';
import { httpRepository as http, registry, type Registry } from './helpers/iglu-registry.js';
import { runCli } from './helpers/run-cli.js';

const THING = 'iglu:com.acme/thing/jsonschema/1-0-0';
const thingSchema = (type: string) => ({
  $schema: IGLU_META_SCHEMA_URI,
  self: { vendor: 'com.acme', name: 'thing', format: 'jsonschema', version: '1-0-0' },
  type: 'object',
  properties: { n: { type } },
  required: ['n'],
});

const open: Registry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});
async function started(schemas: Record<string, unknown>, options: Parameters<typeof registry>[1] = {}): Promise<Registry> {
  const r = await registry(schemas, options);
  open.push(r);
  return r;
}

const configFile = async (dir: string, repositories: unknown[], extra: Record<string, unknown> = {}) => {
  const file = join(dir, 'resolver.json');
  await writeFile(file, JSON.stringify({ schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3', data: { cacheSize: 500, repositories, ...extra } }));
  return file;
};
const instance = (n: unknown) => ({ schema: THING, data: { n } });

describe('resolver configurations in the library', () => {
  it('a static HTTP repository: schemas not vendored are fetched, then validate as usual', async () => {
    const repo = await started({ [THING]: thingSchema('integer') });
    const validator = new IgluValidator({ resolverConfig: { cacheSize: 10, repositories: [http('static', repo.uri)] } });
    expect((await validator.validateAsync(instance(5))).valid).toBe(true);
    expect((await validator.validateAsync(instance('five'))).errors).toEqual([expect.objectContaining({ path: '/data/n', keyword: 'type' })]);
    expect(repo.requests).toEqual(['/schemas/com.acme/thing/jsonschema/1-0-0']); // fetched once, then cached
  });

  it("an Iglu Server: /api/schemas/vendor/name/format/version with the apikey header; a wrong key is the registry's answer, named", async () => {
    const server = await started({ [THING]: thingSchema('integer') }, { prefix: '/api', apikey: 'secret' });
    const good = new IgluValidator({ resolverConfig: { cacheSize: 10, repositories: [http('Acme Iglu Server', server.uri, { apikey: 'secret' })] } });
    expect((await good.validateAsync(instance(5))).valid).toBe(true);
    expect(server.requests).toEqual(['/api/schemas/com.acme/thing/jsonschema/1-0-0']);
    const bad = new IgluValidator({ resolverConfig: { cacheSize: 10, repositories: [http('Acme Iglu Server', server.uri, { apikey: 'wrong' })] } });
    const report = await bad.validateAsync(instance(5));
    expect(report.errors[0]!.message).toContain(`registry "Acme Iglu Server" (${server.uri}): HTTP 401`);
  });

  it('searches the vendored schemas first: a registry is not asked for what Iglu Central has', async () => {
    const repo = await started({ [CLIENT_SESSION_SCHEMA]: thingSchema('integer') });
    const validator = new IgluValidator({ resolverConfig: { cacheSize: 10, repositories: [http('static', repo.uri)] } });
    await validator.validateAsync({ schema: CLIENT_SESSION_SCHEMA, data: {} });
    expect(repo.requests).toEqual([]);
  });

  it("orders registries as iglu-scala-client does: vendor prefix matches, then embedded before HTTP, then priority", () =>
    withTempDir(async (dir) => {
      const low = await started({ [THING]: thingSchema('string') });
      const prefixed = await started({ [THING]: thingSchema('integer') });
      const repositories = [http('priority 0', low.uri, { priority: 0 }), http('priority 9, com.acme', prefixed.uri, { priority: 9, vendorPrefixes: ['com.acme'] })];
      const validator = new IgluValidator({ resolverConfig: { cacheSize: 10, repositories } });
      expect((await validator.validateAsync(instance(5))).valid).toBe(true); // the prefixed registry's schema (integer)
      expect(low.requests).toEqual([]);

      await mkdir(join(dir, 'local', 'schemas', 'com.acme', 'thing', 'jsonschema'), { recursive: true });
      await writeFile(join(dir, 'local', 'schemas', 'com.acme', 'thing', 'jsonschema', '1-0-0'), JSON.stringify(thingSchema('boolean')));
      const file = await configFile(dir, [...repositories, { name: 'embedded', priority: 100, vendorPrefixes: [], connection: { embedded: { path: './local' } } }]);
      const withEmbedded = new IgluValidator({ resolverConfig: await loadResolverConfig(file) });
      expect((await withEmbedded.validateAsync(instance(true))).valid).toBe(true); // embedded (the folder that holds schemas/) beats HTTP
    }),
  );

  it('a registry that is down or never answers gives a bounded, named failure; the lookup is cached, not retried per event', async () => {
    const down = await started({});
    await down.close();
    const slow = await started({}, { hang: true });
    const validator = new IgluValidator({ resolverConfig: { cacheSize: 10, repositories: [http('down', down.uri), http('slow', slow.uri, { priority: 1 })] }, registryTimeout: 200 });
    const report = await validator.validateAsync(instance(5));
    expect(report.valid).toBe(false);
    expect(report.errors[0]!.message).toMatch(/registry "down" \(http:\/\/127\.0\.0\.1:\d+\): unreachable \(ECONNREFUSED\)/);
    expect(report.errors[0]!.message).toMatch(/registry "slow" \(http:\/\/127\.0\.0\.1:\d+\): did not answer within 200 ms/);
    await validator.validateAsync(instance(6));
    expect(slow.requests).toHaveLength(1);
  });

  it('the cache follows cacheTtl: 0 asks again every time; none keeps the answer', async () => {
    const repo = await started({ [THING]: thingSchema('integer') });
    const expiring = new IgluValidator({ resolverConfig: { cacheSize: 10, cacheTtl: 0, repositories: [http('static', repo.uri)] } });
    for (let i = 0; i < 3; i++) expect((await expiring.validateAsync(instance(i))).valid).toBe(true);
    expect(repo.requests).toHaveLength(3);
  });
});

describe('--resolver on the commands', () => {
  it('validate --resolver: an instance of a schema served by an Iglu Server validates; exit codes as usual', () =>
    withTempDir(async (dir) => {
      const server = await started({ [THING]: thingSchema('integer') }, { prefix: '/api', apikey: 'k' });
      const file = await configFile(dir, [http('Acme', server.uri, { apikey: 'k' })]);
      const ok = await runCli('validate', ['--resolver', file, '-'], { stdin: `${JSON.stringify(instance(1))}\n` });
      expect(ok).toMatchObject({ code: 0, stdout: '1 valid, 0 invalid\n' });
      const invalid = await runCli('validate', ['--resolver', file, '-'], { stdin: `${JSON.stringify(instance('x'))}\n` });
      expect(invalid.code).toBe(1);
    }),
  );

  it('a --resolver file that is missing or does not match resolver-config exits 2, naming it', () =>
    withTempDir(async (dir) => {
      const missing = await runCli('validate', ['--resolver', join(dir, 'nope.json'), '-'], { stdin: '{}' });
      expect(missing).toMatchObject({ code: 2, stderr: `validate: resolver config ${join(dir, 'nope.json')}: no such file\n` });
      const file = await configFile(dir, [{ name: 'x', priority: 0, vendorPrefixes: [], connection: { ftp: {} } }]);
      const wrong = await runCli('lint-schemas', ['--resolver', file]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain(`resolver config ${file}: does not match iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3`);
    }),
  );

  it("the collector command takes Snowplow Micro's MICRO_IGLU_REGISTRY_URL and MICRO_IGLU_API_KEY", async () => {
    const server = await started({ [THING]: thingSchema('integer') }, { prefix: '/api', apikey: 'micro-key' });
    const script = fileURLToPath(new URL('../dist/scripts/collector.js', import.meta.url));
    const child = spawn(process.execPath, [script, '--port', '0'], { env: { ...process.env, MICRO_IGLU_REGISTRY_URL: server.uri, MICRO_IGLU_API_KEY: 'micro-key' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve) =>
        child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          const listening = /listening on (\S+)/.exec(d);
          if (listening !== null) resolve(listening[1]!);
        }),
      );
      const event = { e: 'ue', tv: 'node-4.8.0', p: 'srv', ue_pr: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: instance(7) }) };
      const sent = await fetch(`${url}/com.snowplowanalytics.snowplow/tp2`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [event] }),
      });
      expect(sent.status).toBe(200);
      expect(await (await fetch(`${url}/micro/all`)).json()).toEqual({ total: 1, good: 1, bad: 0 });
      expect(server.requests).toEqual(['/api/schemas/com.acme/thing/jsonschema/1-0-0']);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
    }
  });
});
