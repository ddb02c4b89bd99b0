// What the collector does beyond JSON Schema, as Enrich and Micro do, fed by the real node-tracker over
// HTTP: atomic-field limits, maxJsonDepth, superseded schemas (static repository and a local HTTP
// registry), text stored as Enrich stores it, the sp cookie, schema lookups and Micro 4.5's API.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent, newTracker } from '@snowplow/node-tracker';
import { enrichedTsv } from '../plugin/collector/enriched-event.js';
import { startCollector, type BadEvent, type CollectorOptions, type GoodEvent, type RunningCollector } from '../plugin/collector/index.js';
import { withTempDir } from './helpers/capture.js';
import { ANYTHING, nested, staticRepository, SUPERSEDED, THING } from './helpers/enrich-fixtures.js';
import { registry } from './helpers/iglu-registry.js';
import { collectorProcess, micro } from './helpers/micro.js';

type Row = Record<string, unknown>;
const FAILURE = 'contexts_com_snowplowanalytics_snowplow_failure_1';
const VALIDATION_INFO = 'contexts_com_snowplowanalytics_iglu_validation_info_1';

/** Sends `track` through a real node-tracker (appId `appId`) to `collector`, then answers Micro's views. */
async function send(collector: RunningCollector, appId: string, track: (tracker: ReturnType<typeof newTracker>) => void) {
  const tracker = newTracker({ namespace: 'rules', appId }, { endpoint: collector.url, bufferSize: 1 });
  track(tracker);
  await tracker.flush();
}
const get = async <T>(collector: RunningCollector, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${collector.url}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  return (await response.json()) as T;
};
const failedRows = async (collector: RunningCollector) => (await get<{ events: Row[] }>(collector, '/micro/events', { validEvents: false })).events;

async function withCollector(options: CollectorOptions, run: (collector: RunningCollector) => Promise<void>): Promise<void> {
  const collector = await startCollector({ port: 0, ...options });
  try {
    await run(collector);
  } finally {
    await collector.close();
  }
}

describe("the collector command takes Enrich's rules from --config and --accept-invalid", () => {
  it('a 256-character app_id fails by default, is good with a --config raising its limit, and with --accept-invalid', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'micro.json'), JSON.stringify({ enrich: { validation: { atomicFieldsLimits: { app_id: 300 } } } }));
      const counts: Array<{ total: number; good: number; bad: number }> = [];
      for (const args of [[], ['--config', join(dir, 'micro.json')], ['--accept-invalid']]) {
        const collector = await collectorProcess(args);
        try {
          const tracker = newTracker({ namespace: 'cli', appId: 'a'.repeat(256) }, { endpoint: collector.url, bufferSize: 1 });
          tracker.track(buildStructEvent({ category: 'c', action: 'a' }));
          await tracker.flush();
          counts.push(await micro(collector.url).all());
        } finally {
          await collector.stop();
        }
      }
      expect(counts).toEqual([
        { total: 1, good: 0, bad: 1 },
        { total: 1, good: 1, bad: 0 },
        { total: 1, good: 1, bad: 0 },
      ]);
    }));
});

describe("Enrich's atomic-field limits", () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startCollector({ port: 0 });
  });
  afterAll(() => collector.close());

  it('app_id: 255 characters are good, 256 a failed event naming the field and the limit (Micro\'s shapes), the field emptied as Enrich does', async () => {
    await fetch(`${collector.url}/micro/reset`);
    await send(collector, 'a'.repeat(255), (t) => t.track(buildStructEvent({ category: 'shop', action: 'ok' })));
    await send(collector, 'b'.repeat(256), (t) => t.track(buildStructEvent({ category: 'shop', action: 'too-long' })));
    expect(await get(collector, '/micro/all')).toEqual({ total: 2, good: 1, bad: 1 });
    const [bad] = await get<BadEvent[]>(collector, '/micro/bad');
    expect(JSON.parse(bad!.errors[1]!).data.failure.messages).toEqual([
      {
        schemaKey: 'iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0',
        error: { error: 'ValidationError', dataReports: [{ message: 'Field is longer than maximum allowed size 255', path: 'app_id', keyword: 'atomic_field_length_exceeded', targets: [] }] },
      },
    ]);
    const [row] = await failedRows(collector);
    expect(row).toMatchObject({ app_id: null, se_action: 'too-long' });
    expect(row![FAILURE]).toEqual([
      expect.objectContaining({
        failureType: 'ValidationError',
        schema: 'iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0',
        data: { app_id: 'b'.repeat(256) },
        errors: [{ source: 'atomic_field', message: 'Field is longer than maximum allowed size 255', path: 'app_id', keyword: 'atomic_field_length_exceeded', targets: [] }],
      }),
    ]);
  });

  it('se_label: 4096 characters are good, 5000 fail; Java string length counts UTF-16 code units (an emoji is 2)', async () => {
    await fetch(`${collector.url}/micro/reset`);
    await send(collector, 'app', (t) => {
      t.track(buildStructEvent({ category: 'c', action: 'a', label: 'x'.repeat(4096) }));
      t.track(buildStructEvent({ category: 'c', action: 'a', label: 'x'.repeat(5000) }));
      t.track(buildStructEvent({ category: 'c', action: 'a', label: '😀'.repeat(2049) })); // 2049 characters, 4098 code units
    });
    expect(await get(collector, '/micro/all')).toEqual({ total: 3, good: 1, bad: 2 });
    const messages = (await get<BadEvent[]>(collector, '/micro/bad')).map((b) => JSON.parse(b.errors[1]!).data.failure.messages[0].error.dataReports[0]);
    expect(messages).toEqual([expect.objectContaining({ path: 'se_label', message: 'Field is longer than maximum allowed size 4096' }), expect.objectContaining({ path: 'se_label' })]);
  });

  it('limits are configurable (atomicFieldsLimits) and acceptInvalid lets such events through, as Enrich', async () => {
    await withCollector({ atomicFieldsLimits: { app_id: 5 } }, async (limited) => {
      await send(limited, 'sixsix', (t) => t.track(buildStructEvent({ category: 'c', action: 'a', label: 'x'.repeat(5000) })));
      const [bad] = await get<BadEvent[]>(limited, '/micro/bad');
      expect(JSON.parse(bad!.errors[1]!).data.failure.messages[0].error.dataReports.map((r: Row) => r.message)).toEqual([
        'Field is longer than maximum allowed size 5',
        'Field is longer than maximum allowed size 4096',
      ]);
    });
    await withCollector({ acceptInvalid: true }, async (accepting) => {
      await send(accepting, 'a'.repeat(300), (t) => t.track(buildStructEvent({ category: 'c', action: 'a' })));
      expect(await get(accepting, '/micro/all')).toEqual({ total: 1, good: 1, bad: 0 });
    });
    await expect(startCollector({ port: 0, atomicFieldsLimits: { appid: 5 } })).rejects.toThrow(/atomicFieldsLimits: fields \[appid\] are not supported; supported fields: app_id, platform/);
  });
});

describe('maxJsonDepth', () => {
  it('an event nested well below 40 levels is good, well above is a failed event naming the field and the depth; configurable', async () => {
    await withCollector({}, async (collector) => {
      await send(collector, 'app', (t) => {
        t.track(buildSelfDescribingEvent({ event: { schema: ANYTHING, data: nested(20) as Row } }));
        t.track(buildSelfDescribingEvent({ event: { schema: ANYTHING, data: nested(60) as Row } }));
      });
      expect(await get(collector, '/micro/all')).toEqual({ total: 2, good: 1, bad: 1 });
      const [bad] = await get<BadEvent[]>(collector, '/micro/bad');
      expect(JSON.parse(bad!.errors[1]!).data.failure.messages).toEqual([{ field: 'ue_px', value: null, error: 'nested deeper than maxJsonDepth 40: maximum allowed JSON depth exceeded' }]);
      expect((await failedRows(collector))[0]![FAILURE]).toEqual([expect.objectContaining({ failureType: 'NotJSON' })]);
    });
    await withCollector({ maxJsonDepth: 100 }, async (collector) => {
      await send(collector, 'app', (t) => t.track(buildSelfDescribingEvent({ event: { schema: ANYTHING, data: nested(60) as Row } })));
      expect(await get(collector, '/micro/all')).toEqual({ total: 1, good: 1, bad: 0 });
    });
  });
});

describe('superseded schemas: the entity names the superseding version and validation_info joins the derived contexts', () => {
  const expectSuperseded = async (collector: RunningCollector) => {
    await send(collector, 'app', (t) => {
      t.track(buildStructEvent({ category: 'c', action: 'good' }), [{ schema: THING, data: { n: 5 } }]);
      t.track(buildStructEvent({ category: 'c', action: 'bad' }), [{ schema: THING, data: { n: 'five' } }]);
    });
    expect(await get(collector, '/micro/all')).toEqual({ total: 2, good: 1, bad: 1 });
    const [good] = await get<GoodEvent[]>(collector, '/micro/good');
    expect(good!.contexts).toEqual(['iglu:com.acme/thing/jsonschema/1-0-1']);
    const [row] = (await get<{ events: Row[] }>(collector, '/micro/events', { validEvents: true })).events;
    expect(row!.contexts_com_acme_thing_1).toEqual([{ n: 5, _schema_version: 'iglu:com.acme/thing/jsonschema/1-0-1' }]);
    expect(row![VALIDATION_INFO]).toEqual([{ originalSchema: THING, validatedWith: '1-0-1', _schema_version: 'iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0' }]);
    const [bad] = await get<BadEvent[]>(collector, '/micro/bad');
    expect(JSON.parse(bad!.errors[1]!).data.failure.messages).toEqual([{ schemaKey: THING, error: expect.objectContaining({ error: 'ValidationError', supersededBy: '1-0-1' }) }]);
  };

  it('through a static repository (--schemas)', () =>
    withTempDir(async (dir) => {
      await withCollector({ schemas: [await staticRepository(dir, SUPERSEDED)] }, expectSuperseded);
    }));

  it('through an HTTP registry started by the test', async () => {
    const served = await registry(SUPERSEDED);
    try {
      const resolverConfig = { cacheSize: 10, repositories: [{ name: 'local', priority: 0, vendorPrefixes: [], connection: { http: { uri: served.uri } } }] };
      await withCollector({ resolverConfig }, expectSuperseded);
    } finally {
      await served.close();
    }
  });
});

describe('the stored event as Enrich stores it, and the sp cookie', () => {
  it('cleans text as Enrich does (a tab is 4 spaces, control characters go), so -j, -t and the API agree', async () => {
    for (const output of ['json', 'tsv'] as const) {
      const events = new PassThrough().setEncoding('utf8');
      await withCollector({ output, outputStreams: { events, badRows: new PassThrough() } }, async (collector) => {
        await send(collector, 'app\r\n', (t) => t.track(buildStructEvent({ category: 'c', action: 'a', label: 'one\ttwo\nthree\u0007' })));
        const [good] = await get<GoodEvent[]>(collector, '/micro/good');
        expect(good!.event).toMatchObject({ se_label: 'one    twothree', app_id: 'app' });
        const line = String(events.read()).trim();
        if (output === 'json') expect(JSON.parse(line)).toMatchObject({ se_label: 'one    twothree', app_id: 'app' });
        else expect(line.split('\t')).toEqual(expect.arrayContaining(['one    twothree', 'app']));
      });
    }
  });

  it('-t writes timestamps with their milliseconds in full, as the docs show (09:00:00.120)', () => {
    expect(enrichedTsv({ dvce_created_tstamp: '2026-01-01T09:00:00.120Z', collector_tstamp: '2026-01-01T09:00:00.000Z' }).split('\t').filter(Boolean)).toEqual(['2026-01-01 09:00:00', '2026-01-01 09:00:00.120']);
  });

  it('sets the sp cookie as Snowplow\'s collector does, and the event carries its network user id', async () => {
    await withCollector({}, async (collector) => {
      const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', p: 'web', tv: 'js-4.0.0' }] });
      const post = (headers: Record<string, string> = {}) => fetch(`${collector.url}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });
      const fresh = await post();
      const cookie = fresh.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^sp=([0-9a-f-]{36}); Expires=[^;]+ GMT; Path=\/; SameSite=None; Secure; HttpOnly$/);
      const returning = await post({ Cookie: 'sp=abc-123' });
      expect(returning.headers.get('set-cookie')).toMatch(/^sp=abc-123;/);
      const emptied = await post({ Cookie: 'sp=; other=1' }); // an empty sp cookie is no network user id: a new one is set
      expect(emptied.headers.get('set-cookie')).toMatch(/^sp=[0-9a-f-]{36};/);
      const anonymous = await post({ 'SP-Anonymous': '*' });
      expect(anonymous.headers.get('set-cookie')).toBeNull();
      const nuids = (await get<GoodEvent[]>(collector, '/micro/good')).map((g) => g.event.network_userid);
      expect(nuids.sort()).toEqual(['00000000-0000-0000-0000-000000000000', 'abc-123', /^sp=([^;]+)/.exec(cookie)![1], /^sp=([^;]+)/.exec(emptied.headers.get('set-cookie')!)![1]].sort());
    });
  });
});

describe("Micro 4.5's API", () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startCollector({ port: 0, paths: { '/com.acme/track': '/com.snowplowanalytics.snowplow/tp2' } });
    await send(collector, 'app', (t) => {
      t.track(buildStructEvent({ category: 'shop', action: 'buy' }), [{ schema: ANYTHING, data: { colour: 'red', size: 2 } }]);
      t.track(buildStructEvent({ category: 'Shop', action: 'sell' }));
    });
  });
  afterAll(() => collector.close());

  it('GET /micro/iglu/…: 200 with the schema, 404 with each repository\'s attempt', async () => {
    const found = await fetch(`${collector.url}/micro/iglu/com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2`);
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ self: { name: 'client_session', version: '1-0-2' } });
    const missing = await fetch(`${collector.url}/micro/iglu/com.acme/missing/jsonschema/1-0-0`);
    expect(missing.status).toBe(404);
    const body = (await missing.json()) as { lookupHistory: Row[]; value: Record<string, Row> };
    expect(body.lookupHistory).toEqual([expect.objectContaining({ repository: expect.stringMatching(/schemas$/), errors: [{ error: 'NotFound' }], attempts: 1 })]);
    expect(Object.values(body.value)).toEqual([expect.objectContaining({ errors: [{ error: 'NotFound' }] })]);
    expect((await fetch(`${collector.url}/micro/iglu/com.acme/missing/jsonschema/1-0`)).status).toBe(404);
  });

  it('POST /micro/columnStats, and /micro/columns with the dotted sub-columns', async () => {
    const stats = await get<Record<string, Row>>(collector, '/micro/columnStats', { columns: ['se_category', 'collector_tstamp', 'contexts_com_snowplowanalytics_iglu_anything_a_1'] });
    expect(stats).toEqual({
      se_category: { sortable: true, filterable: true, values: ['Shop', 'shop'] },
      collector_tstamp: { sortable: true, filterable: false, values: null },
      contexts_com_snowplowanalytics_iglu_anything_a_1: { sortable: false, filterable: false, values: null },
    });
    const columns = await get<string[]>(collector, '/micro/columns');
    expect(columns).toEqual(expect.arrayContaining(['app_id', 'contexts_com_snowplowanalytics_iglu_anything_a_1', 'contexts_com_snowplowanalytics_iglu_anything_a_1.colour', 'contexts_com_snowplowanalytics_iglu_anything_a_1.size']));
  });

  it('custom collector paths; /r/tp2 is refused as Snowplow\'s collector does by default; /micro/bad filters by vendor and version', async () => {
    const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', p: 'web' }] }); // no tv: bad
    expect((await fetch(`${collector.url}/com.acme/track`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } })).status).toBe(200);
    expect((await fetch(`${collector.url}/i?e=pv&p=web`)).status).toBe(200); // bad too (no tv), as tp1
    const redirect = await fetch(`${collector.url}/r/tp2?u=https%3A%2F%2Fexample.com`, { redirect: 'manual' });
    expect([redirect.status, await redirect.json()]).toEqual([404, { error: 'redirects disabled' }]);
    const bad = (filters: Row) => get<BadEvent[]>(collector, '/micro/bad', filters);
    expect(await bad({})).toHaveLength(2);
    expect(await bad({ vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' })).toHaveLength(1);
    expect(await bad({ version: 'tp1' })).toHaveLength(1);
    expect(await bad({ vendor: 'com.acme' })).toHaveLength(0);
  });
});
