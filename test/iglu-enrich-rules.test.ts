// The Iglu module's rules beyond JSON Schema that Enrich and iglu-scala-client apply: maxJsonDepth (40, as
// Micro runs Enrich), superseded schemas ($supersededBy) through a static repository and through HTTP
// registries, and the lookup that says where a schema comes from.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { IgluValidator, PACKAGE_SCHEMAS, type RegistryConfig } from '../plugin/iglu/index.js';
import { withTempDir } from './helpers/capture.js';
import { ANYTHING, nested, staticRepository, SUPERSEDED, THING, thingSchema } from './helpers/enrich-fixtures.js';
import { registry, type Registry } from './helpers/iglu-registry.js';

const CONTEXTS = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1';
const payloadWith = (entityData: unknown) => ({ e: 'pv', p: 'srv', tv: 'node-4.8.0', co: JSON.stringify({ schema: CONTEXTS, data: [{ schema: ANYTHING, data: entityData }] }) });



const open: Registry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});
const http = async (name: string, schemas: Record<string, unknown>, prefix = ''): Promise<RegistryConfig> => {
  const r = await registry(schemas, { prefix });
  open.push(r);
  return { name, priority: 0, vendorPrefixes: [], connection: { http: { uri: r.uri } } };
};

describe('maxJsonDepth (Enrich: 40 by default)', () => {
  const validator = new IgluValidator();

  it('counts depth as Snowplow does: data 40 deep passes, 41 deep fails, naming maxJsonDepth', () => {
    expect(validator.validateData(ANYTHING, nested(39)).valid).toBe(true);
    expect(validator.validateData(ANYTHING, nested(40)).errors).toEqual([
      { path: '', keyword: 'depth', message: 'nested deeper than maxJsonDepth 40: maximum allowed JSON depth exceeded', schema: ANYTHING },
    ]);
  });

  it('in a tracker payload, counts the whole co/cx/ue_pr/ue_px JSON from its wrapper, as Enrich parses the field', () => {
    expect(validator.validatePayload(payloadWith(nested(20))).valid).toBe(true);
    const report = validator.validatePayload(payloadWith(nested(60)));
    expect(report.errors).toEqual([expect.objectContaining({ path: '/co', keyword: 'depth', message: expect.stringContaining('maxJsonDepth 40') })]);
    // The wrapper takes 3 levels: an entity's data may be 37 deep inside co, not 38.
    expect(validator.validatePayload(payloadWith(nested(36))).valid).toBe(true);
    expect(validator.validatePayload(payloadWith(nested(37))).valid).toBe(false);
  });

  it('is configurable up to the hard safety bound of 500, with a clear error beyond', () => {
    expect(new IgluValidator({ maxJsonDepth: 100 }).validatePayload(payloadWith(nested(60))).valid).toBe(true);
    expect(() => new IgluValidator({ maxJsonDepth: 501 })).toThrow('snowplow-client-session: maxJsonDepth must be a whole number from 1 to 500, got 501');
    expect(() => new IgluValidator({ maxJsonDepth: 0 })).toThrow(/maxJsonDepth must be a whole number from 1 to 500/);
  });
});

describe('superseded schemas ($supersededBy), as iglu-scala-client resolves them', () => {
  const expectSuperseded = (validator: IgluValidator) => {
    const bad = validator.validate({ schema: THING, data: { n: 'five' } });
    expect(bad.errors).toEqual([expect.objectContaining({ path: '/data/n', keyword: 'type', schema: THING })]); // 1-0-1's rule, on the instance's URI
    expect(bad.superseded).toEqual([{ path: '/data', originalSchema: THING, validatedWith: '1-0-1' }]);
    const good = validator.validate({ schema: THING, data: { n: 5 } });
    expect(good).toMatchObject({ valid: true, superseded: [{ path: '/data', originalSchema: THING, validatedWith: '1-0-1' }] });
    expect(validator.validate({ schema: THING, data: {} }).errors[0]).toMatchObject({ keyword: 'required' });
  };

  it('through a static repository', () =>
    withTempDir(async (dir) => {
      expectSuperseded(new IgluValidator({ repositories: [await staticRepository(dir, SUPERSEDED)] }));
    }));

  it('through HTTP registries started by the test: a static repository and an Iglu Server (/api)', async () => {
    for (const [name, prefix] of [['static', ''], ['server', '/api']] as const) {
      const config = { cacheSize: 10, repositories: [await http(name, SUPERSEDED, prefix)] };
      const validator = new IgluValidator({ resolverConfig: config });
      const bad = await validator.validateAsync({ schema: THING, data: { n: 'five' } });
      expect(bad).toMatchObject({ valid: false, superseded: [{ path: '/data', originalSchema: THING, validatedWith: '1-0-1' }] });
      expect(bad.errors[0]).toMatchObject({ path: '/data/n', keyword: 'type' });
      expect((await validator.validateAsync({ schema: THING, data: { n: 5 } })).valid).toBe(true);
    }
  });

  it('takes the superseding version from the same repository; a version that is not later is a failure of that repository', () =>
    withTempDir(async (dir) => {
      const backwards = { [THING]: thingSchema('1-0-0', { n: {} }, { $supersededBy: '1-0-0' }) };
      const alone = { [THING]: SUPERSEDED[THING] }; // 1-0-1 is not in this repository
      const a = await staticRepository(join(dir, 'a'), backwards);
      const b = await staticRepository(join(dir, 'b'), alone);
      const validator = new IgluValidator({ repositories: [a, b] });
      const report = validator.validate({ schema: THING, data: { n: 5 } });
      expect(report.errors[0]!.message).toContain(`${a}: Superseding version 1-0-0 isn't greater than the version of schema com.acme/thing/jsonschema/1-0-0`);
      const resolution = validator.resolver.resolve(THING);
      expect(resolution.ok === false && resolution.lookupHistory.map((h) => [h.repository, h.errors[0]!.error])).toEqual([
        [a, 'ClientFailure'],
        [b, 'NotFound'],
        [PACKAGE_SCHEMAS, 'NotFound'],
      ]);
    }));
});

describe('lookUp: where a schema resolves from', () => {
  it('answers the schema as the first repository that has it stores it, or each repository\'s attempt', () =>
    withTempDir(async (dir) => {
      const config = { cacheSize: 10, repositories: [await http('Acme registry', {})] };
      const validator = new IgluValidator({ repositories: [await staticRepository(dir, SUPERSEDED)], resolverConfig: config });
      const found = await validator.resolver.lookUp(THING);
      expect(found).toMatchObject({ ok: true, schema: { file: join(dir, 'com.acme/thing/jsonschema/1-0-0'), schema: { $supersededBy: '1-0-1' } } });
      const missing = await validator.resolver.lookUp('iglu:com.acme/missing/jsonschema/1-0-0');
      expect(missing.ok === false && missing.lookupHistory).toEqual([
        { repository: dir, errors: [{ error: 'NotFound' }], attempts: 1, lastAttempt: expect.any(String) },
        { repository: PACKAGE_SCHEMAS, errors: [{ error: 'NotFound' }], attempts: 1, lastAttempt: expect.any(String) },
        { repository: 'Acme registry', errors: [{ error: 'NotFound' }], attempts: 1, lastAttempt: expect.any(String) },
      ]);
    }));
});
