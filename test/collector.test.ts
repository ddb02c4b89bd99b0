import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent } from '@snowplow/tracker-core';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { createClientSession, MemorySessionStore } from '../plugin/index.js';
import { CLIENT_SESSION_SCHEMA, SCHEMA_VIOLATIONS_SCHEMA } from '../plugin/schema-uris.js';
import { httpTracker, micro } from './helpers/micro.js';

const validator = new IgluValidator();
const entity = { userId: 'c1ba47c1-241a-497f-8d69-3eddde4d3d02', sessionId: '192b85ea-81f2-42e2-908c-0fc34861c93f', sessionIndex: 1, storageMechanism: 'SQLITE' };
let collector: RunningCollector;
let api: ReturnType<typeof micro>;

beforeAll(async () => {
  collector = await startCollector({ port: 0 });
  api = micro(collector.url);
});
afterAll(() => collector.close());
beforeEach(async () => {
  await api.reset();
});

const post = (path: string, body: string | Buffer, contentType = 'application/json') =>
  fetch(`${collector.url}${path}`, { method: 'POST', body, headers: { 'Content-Type': contentType } });
const tp2 = (body: unknown) => post('/com.snowplowanalytics.snowplow/tp2', typeof body === 'string' ? body : JSON.stringify(body));
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;
const payload = { e: 'se', tv: 'node-4.8.0', p: 'srv', eid: '6e7d2a8f-3c1b-4c55-9d0e-0f2b9a6c1d11', se_ca: 'c', se_ac: 'a' };

describe('collector: what trackers send', () => {
  it('binds to 127.0.0.1 by default', () => {
    expect(collector.url).toBe(`http://127.0.0.1:${collector.port}`);
  });

  it('receives the real node-tracker over HTTP and answers like Micro', async () => {
    const session = await createClientSession({ store: new MemorySessionStore() });
    const tracker = httpTracker(collector.url, session);
    tracker.track(buildStructEvent({ category: 'shop', action: 'add_to_cart', label: 'sku-1', value: 2 }));
    tracker.track(buildSelfDescribingEvent({ event: { schema: CLIENT_SESSION_SCHEMA, data: entity } }));
    await tracker.flush();
    expect(await api.all()).toEqual({ total: 2, good: 2, bad: 0 });
    const [unstruct, struct] = await api.good();
    expect(struct).toMatchObject({
      eventType: 'struct',
      // Micro names the schema Enrich gives a structured event.
      schema: 'iglu:com.google.analytics/event/jsonschema/1-0-0',
      contexts: [CLIENT_SESSION_SCHEMA],
      incomplete: false,
      rawEvent: { api: { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' }, parameters: { e: 'se', se_ac: 'add_to_cart' }, context: { ipAddress: expect.stringMatching(/127\.0\.0\.1/) } },
      event: { app_id: 'client-session-e2e', platform: 'srv', event: 'struct', se_category: 'shop', se_action: 'add_to_cart', se_label: 'sku-1', se_value: 2 },
    });
    expect(struct!.event.event_id).toBe(struct!.rawEvent.parameters.eid);
    expect(unstruct).toMatchObject({
      eventType: 'unstruct',
      schema: CLIENT_SESSION_SCHEMA,
      event: { event_vendor: 'com.snowplowanalytics.snowplow', event_name: 'client_session', event_format: 'jsonschema', event_version: '1-0-2' },
    });
  });

  it('accepts every payload_data version from 1-0-0 to 1-0-4 and GET /i', async () => {
    for (let v = 0; v <= 4; v++) expect((await tp2({ schema: `iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-${v}`, data: [payload] })).status).toBe(200);
    const pixel = await fetch(`${collector.url}/i?${new URLSearchParams(payload)}`);
    expect([pixel.status, pixel.headers.get('content-type')]).toEqual([200, 'image/gif']);
    expect(await api.all()).toEqual({ total: 6, good: 6, bad: 0 });
  });

  it('filters /micro/good like Micro (newest first)', async () => {
    const ue = { e: 'ue', tv: 't', p: 'srv', ue_pr: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: CLIENT_SESSION_SCHEMA, data: entity } }) };
    const withContext = { ...payload, co: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1', data: [{ schema: CLIENT_SESSION_SCHEMA, data: entity }] }) };
    await tp2({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [payload, ue, withContext, { ...payload, se_ac: 'last' }] });
    expect((await api.good()).map((e) => e.eventType)).toEqual(['struct', 'struct', 'unstruct', 'struct']);
    expect(await api.good({ event_type: 'unstruct' })).toHaveLength(1);
    expect(await api.good({ schema: CLIENT_SESSION_SCHEMA })).toHaveLength(1);
    expect((await api.good({ contexts: [CLIENT_SESSION_SCHEMA] })).map((e) => e.rawEvent.parameters.co !== undefined)).toEqual([true]);
    expect((await api.good({ event_type: 'struct', limit: 1 }))[0]!.event.se_action).toBe('last');
  });
});

describe('collector: bad events', () => {
  it('keeps an invalid entity as a bad row whose data report names the field', async () => {
    const session = await createClientSession({ store: new MemorySessionStore() });
    const tracker = httpTracker(collector.url, session);
    tracker.track(buildStructEvent({ category: 'c', action: 'a' }), [{ schema: CLIENT_SESSION_SCHEMA, data: { ...entity, sessionIndex: '7' } }]);
    await tracker.flush();
    expect(await api.all()).toEqual({ total: 1, good: 0, bad: 1 });
    const [bad] = await api.bad();
    expect(bad!.errors[0]).toBe('Error while validating the event.');
    expect(bad!.rawEvent?.parameters.e).toBe('se');
    const row = JSON.parse(bad!.errors[1]!);
    expect(row.schema).toBe(SCHEMA_VIOLATIONS_SCHEMA);
    expect(row.data.failure.messages).toEqual([
      {
        schemaKey: CLIENT_SESSION_SCHEMA,
        error: { error: 'ValidationError', dataReports: [{ message: '$.sessionIndex: expected integer, found string', path: '$.sessionIndex', keyword: 'type', targets: ['string', 'integer'] }] },
      },
    ]);
    expect(validator.validate(row)).toMatchObject({ valid: true });
  });

  it.each([
    ['malformed JSON', '{"schema": ', 'body'],
    ['a body that is not payload_data', JSON.stringify({ schema: CLIENT_SESSION_SCHEMA, data: entity }), 'INVALID_DATA_PAYLOAD'],
    ['an empty payload_data', JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [] }), 'ValidationError'],
    ['a payload with a field payload_data does not allow', JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ ...payload, color: 'red' }] }), 'ValidationError'],
    ['cx that is not base64', JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ ...payload, cx: '%%%' }] }), 'cx'],
    ['an entity whose schema is unknown', JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ ...payload, co: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1', data: [{ schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: {} }] }) }] }), 'ResolutionError'],
  ])('keeps %s as a valid schema_violations bad row (200)', async (_name, body, marker) => {
    const response = await tp2(body);
    expect(response.status).toBe(200);
    const [bad] = await api.bad();
    expect(bad!.errors[1]).toContain(marker);
    expect(validator.validate(JSON.parse(bad!.errors[1]!))).toMatchObject({ valid: true, errors: [] });
  });

  it('answers protocol errors with a 4xx and a reason, and keeps serving', async () => {
    const wrongType = await post('/com.snowplowanalytics.snowplow/tp2', '{}', 'text/plain');
    expect([wrongType.status, await errorOf(wrongType)]).toEqual([415, 'content type must be application/json, got text/plain']);
    const tooBig = await post('/com.snowplowanalytics.snowplow/tp2', Buffer.alloc(1024 * 1024 + 1, 0x20));
    expect([tooBig.status, await errorOf(tooBig)]).toEqual([413, 'body of 1048577 bytes is over the limit of 1048576 bytes']);
    const unknown = await fetch(`${collector.url}/nope`);
    expect(unknown.status).toBe(404);
    const wrongMethod = await fetch(`${collector.url}/com.snowplowanalytics.snowplow/tp2`, { method: 'PUT' });
    expect([wrongMethod.status, await errorOf(wrongMethod)]).toEqual([405, 'PUT is not allowed here; use POST or GET or HEAD']);
    const badFilter = await post('/micro/good', JSON.stringify({ limit: -1 }));
    expect([badFilter.status, await errorOf(badFilter)]).toEqual([400, 'filter limit must be a whole number >= 0']);
    expect((await fetch(`${collector.url}/health`)).status).toBe(200);
    expect(await api.all()).toEqual({ total: 0, good: 0, bad: 0 });
  });
});

describe('collector: limits and options', () => {
  it('keeps at most maxEvents, dropping the oldest and counting them', async () => {
    const small = await startCollector({ port: 0, maxEvents: 3 });
    try {
      const data = [1, 2, 3, 4, 5].map((n) => ({ ...payload, se_va: String(n) }));
      await fetch(`${small.url}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data }) });
      expect((await micro(small.url).good()).map((e) => e.event.se_value)).toEqual([5, 4, 3]);
      expect(small.dropped()).toEqual({ good: 2, bad: 0 });
    } finally {
      await small.close();
    }
  });

  it.each([
    [{ port: 70000 }, /option `port` must be an integer from 0 to 65535, got 70000/],
    [{ maxBodyBytes: 0 }, /option `maxBodyBytes` must be a whole number of bytes >= 1/],
    [{ schemas: 'dir' }, /option `schemas` must be an array of folder paths/],
  ])('rejects %p with a clear error', async (options, message) => {
    await expect(startCollector(options as never)).rejects.toThrow(message);
  });
});
