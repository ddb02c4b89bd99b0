import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent } from '@snowplow/tracker-core';
import { createClientSession, MemorySessionStore } from '../plugin/index.js';
import { IgluValidator, parseIgluUri, PACKAGE_SCHEMAS } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { capturingTracker, withTempDir } from './helpers/capture.js';

const validator = new IgluValidator();
const CONTEXTS = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1';
const entity = {
  userId: 'c1ba47c1-241a-497f-8d69-3eddde4d3d02',
  sessionId: '192b85ea-81f2-42e2-908c-0fc34861c93f',
  sessionIndex: 1,
  storageMechanism: 'SQLITE',
};
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('IgluValidator: self-describing JSON', () => {
  it('accepts a valid client_session entity', () => {
    expect(validator.validate({ schema: CLIENT_SESSION_SCHEMA, data: entity })).toEqual({ valid: true, schema: CLIENT_SESSION_SCHEMA, errors: [], notes: [] });
  });

  it('says where, what was expected, what was found and which schema', () => {
    const report = validator.validate({ schema: CLIENT_SESSION_SCHEMA, data: { ...entity, sessionIndex: '5', extra: true, userId: undefined } });
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual(
      expect.arrayContaining([
        { path: '/data/sessionIndex', dataPath: '/sessionIndex', keyword: 'type', message: 'expected integer, found string', schema: CLIENT_SESSION_SCHEMA, expected: 'integer', found: 'string' },
        { path: '/data/extra', dataPath: '/extra', keyword: 'additionalProperties', message: 'is not allowed by the schema (additionalProperties: false)', schema: CLIENT_SESSION_SCHEMA },
        { path: '/data/userId', dataPath: '/userId', keyword: 'required', message: 'is missing but it is required', schema: CLIENT_SESSION_SCHEMA },
      ]),
    );
  });

  it('validates the way Snowplow does: draft-04, strict types, date-time with an offset', () => {
    const at = (firstEventTimestamp: string) => validator.validate({ schema: CLIENT_SESSION_SCHEMA, data: { ...entity, firstEventTimestamp } });
    expect(at('2022-04-17T00:00:00.000Z').valid).toBe(true);
    expect(at('2022-04-17T00:00:00.000').errors[0]).toMatchObject({ path: '/data/firstEventTimestamp', keyword: 'format' });
    expect(validator.validate({ schema: CLIENT_SESSION_SCHEMA, data: { ...entity, sessionIndex: 2147483648 } }).errors[0]).toMatchObject({ keyword: 'maximum' });
  });

  it('reports an unknown schema as "not found in <repositories>", without throwing', () => {
    const report = validator.validate({ schema: 'iglu:com.acme/nothing/jsonschema/1-0-0', data: {} });
    expect(report.errors).toEqual([
      { path: '/data', keyword: 'iglu', message: `schema iglu:com.acme/nothing/jsonschema/1-0-0 not found in ${PACKAGE_SCHEMAS}`, schema: 'iglu:com.acme/nothing/jsonschema/1-0-0' },
    ]);
  });

  it.each([null, 5, 'x', [], { schema: 'iglu:x' }, { data: {} }, { schema: 'http://example.com/s.json', data: {} }])('reports %p as not self-describing', (instance) => {
    const report = validator.validate(instance);
    expect(report.valid).toBe(false);
    expect(report.errors[0]!.keyword).toBe('iglu');
  });

  it('never resolves a URI outside the repository', () => {
    expect(parseIgluUri('iglu:../../etc/jsonschema/1-0-0')).toBeNull();
    expect(parseIgluUri('iglu:..//passwd/jsonschema/1-0-0')).toBeNull();
    expect(parseIgluUri('iglu:com.acme/x/jsonschema/01-0-0')).toBeNull();
    expect(parseIgluUri('iglu:com.acme/x/jsonschema/1-0-0')).toEqual({ vendor: 'com.acme', name: 'x', format: 'jsonschema', version: '1-0-0' });
  });

  it('steps into a contexts wrapper and reports each broken entity at its own path', () => {
    const report = validator.validate({
      schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
      data: [{ schema: CLIENT_SESSION_SCHEMA, data: entity }, { schema: CLIENT_SESSION_SCHEMA, data: { ...entity, sessionId: 'x' } }],
    });
    expect(report.errors).toEqual([expect.objectContaining({ path: '/data/1/data/sessionId', keyword: 'format', schema: CLIENT_SESSION_SCHEMA })]);
    const empty = validator.validate({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [] });
    expect(empty.errors[0]).toMatchObject({ path: '/data', keyword: 'minItems' });
  });
});

describe('IgluValidator: tracker payloads', () => {
  it('accepts what the real node-tracker sends, contexts and self-describing events included', async () => {
    const session = await createClientSession({ store: new MemorySessionStore() });
    for (const encodeBase64 of [true, false]) {
      const { tracker, payloads } = capturingTracker(session, encodeBase64);
      tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
      tracker.track(buildSelfDescribingEvent({ event: { schema: CLIENT_SESSION_SCHEMA, data: entity } }));
      await tracker.flush();
      for (const payload of payloads) expect(validator.validate(payload)).toMatchObject({ valid: true, errors: [] });
      expect(validator.validate({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: payloads }).valid).toBe(true);
    }
  });

  it('decodes cx and ue_px and reports the inner problems at their paths', () => {
    const payload = {
      e: 'ue',
      tv: 'node-4.8.0',
      p: 'srv',
      cx: b64({ schema: CONTEXTS, data: [{ schema: CLIENT_SESSION_SCHEMA, data: { ...entity, eventIndex: -1 } }] }),
      ue_px: b64({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: CLIENT_SESSION_SCHEMA, data: { ...entity, storageMechanism: 'DISK' } } }),
    };
    const report = validator.validatePayload(payload);
    expect(report.errors.map((e) => [e.path, e.dataPath, e.keyword])).toEqual([
      ['/cx/data/0/data/eventIndex', '/eventIndex', 'minimum'],
      ['/ue_px/data/data/storageMechanism', '/storageMechanism', 'enum'],
    ]);
  });

  it.each([
    ['cx that is not base64', { cx: '%%%' }, '/cx', 'base64'],
    ['cx whose bytes are not JSON', { cx: Buffer.from('{nope').toString('base64') }, '/cx', 'json'],
    ['co that is not JSON', { co: '{' }, '/co', 'json'],
    ['a field that is not in payload_data', { color: 'red' }, '/color', 'additionalProperties'],
    ['a value that is not a string', { eid: 5 }, '/eid', 'type'],
  ])('reports %s', (_name, fields, path, keyword) => {
    const report = validator.validatePayload({ e: 'se', tv: 't', p: 'srv', ...fields });
    expect(report.errors).toEqual([expect.objectContaining({ path, keyword })]);
  });

  it('reports a missing required payload field', () => {
    expect(validator.validatePayload({ tv: 't', p: 'srv' }).errors).toEqual([expect.objectContaining({ path: '/e', keyword: 'required' })]);
  });
});

describe('IgluValidator: repositories', () => {
  it("searches the user's repositories first, then the package's, and explains broken schema files", () =>
    withTempDir(async (dir) => {
      const write = async (path: string, text: string) => {
        await mkdir(join(dir, path, '..'), { recursive: true });
        await writeFile(join(dir, path), text);
      };
      await write('com.acme/thing/jsonschema/1-0-0', JSON.stringify({ type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] }));
      await write('com.acme/broken/jsonschema/1-0-0', '{ not json');
      await write('com.acme/bad/jsonschema/1-0-0', JSON.stringify({ type: 'object', properties: { s: { type: 'string', pattern: '([' } } }));
      const local = new IgluValidator({ repositories: [dir] });
      expect(local.validate({ schema: 'iglu:com.acme/thing/jsonschema/1-0-0', data: { n: 1 } }).valid).toBe(true);
      expect(local.validate({ schema: 'iglu:com.acme/thing/jsonschema/1-0-0', data: {} }).errors[0]).toMatchObject({ path: '/data/n', keyword: 'required' });
      expect(local.validate({ schema: CLIENT_SESSION_SCHEMA, data: entity }).valid).toBe(true);
      expect(local.validate({ schema: 'iglu:com.acme/broken/jsonschema/1-0-0', data: {} }).errors[0]!.message).toMatch(/com.acme\/broken\/jsonschema\/1-0-0 is not valid JSON/);
      expect(local.validate({ schema: 'iglu:com.acme/bad/jsonschema/1-0-0', data: {} }).errors[0]).toMatchObject({ keyword: 'schema' });
      expect(local.validate({ schema: 'iglu:com.acme/none/jsonschema/1-0-0', data: {} }).errors[0]!.message).toBe(
        `schema iglu:com.acme/none/jsonschema/1-0-0 not found in ${dir}, ${PACKAGE_SCHEMAS}`,
      );
    }));
});
