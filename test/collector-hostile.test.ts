// The collector under hostile and heavy traffic on 127.0.0.1: memory bounded in bytes, a verdict for every
// payload, API responses that no stored event can break, safe CORS, linear-time patterns. Every loop is
// bounded by a count.
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';
import { IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { withTempDir } from './helpers/capture.js';
import { collectorProcess } from './helpers/micro.js';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const PAYLOAD_DATA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';
const CONTEXTS = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1';
const UNSTRUCT = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';
const batch = (payloads: unknown[]) => JSON.stringify({ schema: PAYLOAD_DATA, data: payloads });
const pageView = (extra: Record<string, string> = {}) => ({ e: 'pv', tv: 'node-4.8.0', p: 'srv', url: 'https://example.com/', ...extra });
const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${url}${TP2}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });

describe('memory bounded in bytes', () => {
  it('200 bad events of ~1 MiB and 100 distinct ~500 kB unknown schema URIs: the collector (128 MB heap) stays up within --max-bytes; reset empties it', async () => {
    const collector = await collectorProcess(['--max-bytes', '8000000'], 128);
    try {
      for (let i = 0; i < 200; i++) {
        const response = await post(collector.url, batch([{ e: 'pv', p: 'srv', page: `${i}`.padEnd(900_000, 'x') }])); // no tv: bad
        expect(response.status).toBe(200);
      }
      for (let i = 0; i < 100; i++) {
        const uri = `iglu:com.acme/${'n'.repeat(500_000)}${i}/jsonschema/1-0-0`;
        await post(collector.url, batch([pageView({ ue_pr: JSON.stringify({ schema: UNSTRUCT, data: { schema: uri, data: {} } }), e: 'ue' })]));
      }
      const health = (await (await fetch(`${collector.url}/health`)).json()) as { bytes: number; maxBytes: number; dropped: { bad: number } };
      expect(health.bytes).toBeLessThanOrEqual(8_000_000);
      expect(health.dropped.bad).toBeGreaterThan(250);
      expect((await fetch(`${collector.url}/micro/bad`)).status).toBe(200);
      await fetch(`${collector.url}/micro/reset`);
      expect(await (await fetch(`${collector.url}/health`)).json()).toMatchObject({ status: 'ok', events: 0, bytes: 0 });
      expect(collector.child.exitCode).toBeNull();
    } finally {
      await collector.stop();
    }
  });
});

describe('memory bounded in bytes: what a failed event holds is what it counts', () => {
  // The issue's reproduction: before, the process died of V8's out-of-memory at about the 200th request.
  it('300 POSTs each with one entity whose schema URI is distinct and ~500 kB long: the collector (256 MB heap, --max-bytes 64 MiB) stays up, within --max-bytes', async () => {
    const collector = await collectorProcess(['--max-bytes', '67108864'], 256);
    try {
      for (let i = 0; i < 300; i++) {
        const uri = `iglu:com.acme${String(i).padStart(4, '0')}${'v'.repeat(500_000)}/unknown/jsonschema/1-0-0`;
        const co = JSON.stringify({ schema: CONTEXTS, data: [{ schema: uri, data: {} }] });
        expect((await post(collector.url, batch([pageView({ co })]))).status).toBe(200);
      }
      const health = (await (await fetch(`${collector.url}/health`)).json()) as { events: number; bytes: number; dropped: { bad: number } };
      expect(health.bytes).toBeLessThanOrEqual(67108864);
      expect(health.events + health.dropped.bad).toBe(300);
      const [row] = ((await (await fetch(`${collector.url}/micro/events`, { method: 'POST', body: '{"pageSize":1}' })).json()) as { events: Array<Record<string, unknown>> }).events;
      expect(JSON.stringify(row).length).toBeLessThan(16_384); // one failed row keeps no 500 kB column name nor message
      expect(collector.child.exitCode).toBeNull();
    } finally {
      await collector.stop();
    }
  }, 120_000); // ~25 s here (each 500 kB URI meets the contexts schema's pattern); bounded by the count, not a clock
});

describe('a verdict for every payload, and API responses no stored event can break', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startCollector({ port: 0 });
  });
  afterAll(() => collector.close());

  it('self-describing data nested ~750 levels becomes a bad row (over maxJsonDepth, not walked further); its siblings in the batch are kept; no 500', async () => {
    await fetch(`${collector.url}/micro/reset`);
    const deep = `${'{"a":'.repeat(750)}1${'}'.repeat(750)}`;
    const contexts = `{"schema":"${CONTEXTS}","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2","data":${deep}}]}`;
    const response = await post(collector.url, batch([pageView({ eid: 'before' }), pageView({ co: contexts }), pageView({ eid: 'after' })]));
    expect(response.status).toBe(200);
    expect(await (await fetch(`${collector.url}/micro/all`)).json()).toEqual({ total: 3, good: 2, bad: 1 });
    const [bad] = (await (await fetch(`${collector.url}/micro/bad`)).json()) as Array<{ errors: string[] }>;
    expect(bad!.errors[1]).toContain('nested deeper than maxJsonDepth 40');
  });

  it('a payload holding a 100k-deep array becomes a bad row, and /micro/good and /micro/bad still answer', async () => {
    await fetch(`${collector.url}/micro/reset`);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const unstruct = `{"schema":"${UNSTRUCT}","data":{"schema":"iglu:com.snowplowanalytics.snowplow/application_error/jsonschema/1-0-2","data":{"message":"x","stackTrace":${deep}}}}`;
    expect((await post(collector.url, batch([pageView({ e: 'ue', ue_pr: unstruct }), pageView()]))).status).toBe(200);
    expect((await fetch(`${collector.url}/micro/good`)).status).toBe(200);
    expect((await fetch(`${collector.url}/micro/bad`)).status).toBe(200);
    expect(await (await fetch(`${collector.url}/micro/all`)).json()).toEqual({ total: 2, good: 1, bad: 1 });
  });

  it('a 1 MiB batch of {} payloads (300k bad rows) does not hold up other requests: /health answers while it is processed', async () => {
    await fetch(`${collector.url}/micro/reset`);
    const body = batch(Array.from({ length: 340_000 }, () => ({})));
    expect(body.length).toBeLessThan(1024 * 1024);
    let batchDone = false;
    const sent = post(collector.url, body).then((r) => ((batchDone = true), r.status));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the body is on its way
    const health = await fetch(`${collector.url}/health`);
    expect(health.status).toBe(200);
    expect(batchDone).toBe(false); // answered before the batch was done: the collector kept serving
    expect(await sent).toBe(200);
    const usage = collector.usage();
    expect(usage.events).toBeLessThanOrEqual(usage.maxEvents * 2);
  }, 120_000); // 340k bad rows at ~60 µs each is ~20 s here; room for a machine three times as busy

  it('a malformed request target answers 400, not 500', async () => {
    const { port } = collector;
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text)).on('close', () => resolve(text));
      setTimeout(() => socket.end(), 500).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });

  it('e=constructor (or toString) keeps its event type', async () => {
    await fetch(`${collector.url}/micro/reset`);
    await post(collector.url, batch([pageView({ e: 'constructor' })]));
    await post(collector.url, batch([pageView({ e: 'toString' })]));
    const events = (await (await fetch(`${collector.url}/micro/good`)).json()) as Array<{ eventType: string }>;
    expect(events.map((e) => e.eventType)).toEqual(['toString', 'constructor']);
  });
});

describe('CORS and stored secrets', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startCollector({ port: 0, allowOrigins: ['http://localhost:3000'] });
  });
  afterAll(() => collector.close());
  const FOREIGN = { Origin: 'http://evil.example', Cookie: 'session=1' };

  it('a foreign origin can neither preflight nor call /micro/* (with credentials), nor reset; no CORS headers are given to it', async () => {
    const preflight = await fetch(`${collector.url}/micro/reset`, { method: 'OPTIONS', headers: { ...FOREIGN, 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const read = await fetch(`${collector.url}/micro/good`, { headers: FOREIGN });
    expect(read.status).toBe(403);
    expect((await fetch(`${collector.url}/micro/reset`, { method: 'POST', headers: FOREIGN })).status).toBe(403);
  });

  it('an allowed origin, the collector\'s own origin and requests without Origin may use the API', async () => {
    const allowed = await fetch(`${collector.url}/micro/all`, { headers: { Origin: 'http://localhost:3000' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect((await fetch(`${collector.url}/micro/all`, { headers: { Origin: collector.url } })).status).toBe(200);
    expect((await fetch(`${collector.url}/micro/all`)).status).toBe(200);
  });

  it('the tracking endpoint answers any origin with credentials, as Snowplow\'s collector does', async () => {
    const preflight = await fetch(`${collector.url}${TP2}`, { method: 'OPTIONS', headers: { ...FOREIGN, 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://evil.example');
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('Cookie and Authorization are redacted in stored raw events; keepSecretHeaders keeps them', async () => {
    await fetch(`${collector.url}/micro/reset`);
    await post(collector.url, batch([pageView()]), { Cookie: 'sp=abc; session=secret', Authorization: 'Bearer secret' });
    const [event] = (await (await fetch(`${collector.url}/micro/good`)).json()) as Array<{ rawEvent: { context: { headers: string[]; userId: string } } }>;
    expect(event!.rawEvent.context.headers).toEqual(expect.arrayContaining(['Cookie: <redacted>', 'Authorization: <redacted>']));
    expect(JSON.stringify(event)).not.toContain('secret');
    expect(event!.rawEvent.context.userId).toBe('abc'); // the sp cookie's network user id is still read
    const keeping = await startCollector({ port: 0, keepSecretHeaders: true });
    try {
      await post(keeping.url, batch([pageView()]), { Authorization: 'Bearer kept' });
      expect(await (await fetch(`${keeping.url}/micro/good`)).text()).toContain('Authorization: Bearer kept');
    } finally {
      await keeping.close();
    }
  });
});

describe('linear-time patterns (RE2)', () => {
  it('a catastrophic pattern in a --schemas schema is answered at once (backtracking would take hours for 40 characters)', () =>
    withTempDir(async (dir) => {
      await mkdir(join(dir, 'com.acme', 'evil', 'jsonschema'), { recursive: true });
      const schema = { $schema: IGLU_META_SCHEMA_URI, self: { vendor: 'com.acme', name: 'evil', format: 'jsonschema', version: '1-0-0' }, type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } };
      await writeFile(join(dir, 'com.acme', 'evil', 'jsonschema', '1-0-0'), JSON.stringify(schema));
      const collector = await startCollector({ port: 0, schemas: [dir] });
      try {
        const ue = JSON.stringify({ schema: UNSTRUCT, data: { schema: 'iglu:com.acme/evil/jsonschema/1-0-0', data: { s: `${'a'.repeat(40)}b` } } });
        const response = await fetch(`${collector.url}${TP2}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: batch([pageView({ e: 'ue', ue_pr: ue })]), signal: AbortSignal.timeout(10_000) });
        expect(response.status).toBe(200);
        expect(await (await fetch(`${collector.url}/micro/all`)).json()).toEqual({ total: 1, good: 0, bad: 1 });
      } finally {
        await collector.close();
      }
    }),
  );
});

describe('slow clients', () => {
  it('a client that never finishes its headers is cut off after the 10 s header timeout (checked every second), not 30 s later', async () => {
    const collector = await startCollector({ port: 0 });
    try {
      const started = performance.now();
      const closedAfter = await new Promise<number>((resolve) => {
        const socket = connect(collector.port, '127.0.0.1', () => socket.write('POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: x\r\n'));
        socket.on('close', () => resolve(performance.now() - started)).on('error', () => undefined).resume();
      });
      expect(closedAfter).toBeGreaterThanOrEqual(9_000);
      expect(closedAfter).toBeLessThan(20_000); // Node's default 30 s check interval would close it at 30-40 s
    } finally {
      await collector.close();
    }
  }, 40_000);
});
