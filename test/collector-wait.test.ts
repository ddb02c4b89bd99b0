// The collector as a test fixture: waitFor / expectNoBadEvents in process, POST /micro/wait and the
// `wait` command from child processes, with a real node-tracker sending over HTTP on 127.0.0.1. Each test
// tags its events with its own app_id, as tests sharing one collector would.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent, newTracker, type Tracker } from '@snowplow/node-tracker';
import { BadEventsError, startCollector, WaitTimeoutError, type RunningCollector } from '../plugin/collector/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { spawnCli, type RunningCli } from './helpers/run-cli.js';

const SCHEMAS = fileURLToPath(new URL('../examples/schemas', import.meta.url));
const CHECKOUT = 'iglu:com.acme/checkout/jsonschema/1-0-0';
const SESSION = { userId: 'f8a6bd6b-e5fb-4c2b-a5a4-5d45c6bb4e3a', sessionId: '0a9f5f4a-8f1e-4bd4-9c55-8a56c2d3d1b1', sessionIndex: 3, storageMechanism: 'SQLITE' };

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startCollector({ port: 0, schemas: [SCHEMAS] });
});
afterAll(() => collector.close());

/** A node-tracker sending each event at once, its events tagged with `appId`. */
function trackerFor(appId: string, customHeaders?: Record<string, string>): Tracker {
  return newTracker({ namespace: appId, appId, encodeBase64: false }, { endpoint: collector.url, bufferSize: 1, ...(customHeaders ? { customHeaders } : {}) });
}

function checkout(tracker: Tracker, data: Record<string, unknown>, entities: Array<{ schema: string; data: Record<string, unknown> }> = []): void {
  tracker.track(buildSelfDescribingEvent({ event: { schema: CHECKOUT, data } }), entities);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

describe('waitFor in process', () => {
  it('resolves with events that arrived before the wait, and waits for those that arrive after it (no polling)', async () => {
    const tracker = trackerFor('wait-before-after');
    tracker.track(buildStructEvent({ category: 'shop', action: 'view' }));
    await tracker.flush();
    const before = await collector.waitFor({ app_id: 'wait-before-after', se_action: 'view' }, { timeout: 0 });
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ app_id: 'wait-before-after', event: 'struct', se_category: 'shop', se_action: 'view', page_url: null });

    const waiting = collector.waitFor({ app_id: 'wait-before-after', se_action: 'buy' }, { count: 2, timeout: 20_000 });
    expect(collector.usage().waits).toBe(1);
    tracker.track(buildStructEvent({ category: 'shop', action: 'buy', label: 'first' }));
    tracker.track(buildStructEvent({ category: 'shop', action: 'buy', label: 'second' }));
    await tracker.flush();
    const events = await waiting;
    expect(events.map((e) => e.se_label)).toEqual(['first', 'second']); // arrival order
    expect(collector.usage().waits).toBe(0);
  });

  it('matches the schema with or without version, entities by schema and part of their data, part of the event data, atomic fields and headers', async () => {
    const tracker = trackerFor('wait-parts', { 'X-Test-Id': 'parts-1' });
    checkout(tracker, { orderId: 'o-1', total: 19.99, currency: 'EUR' }, [{ schema: CLIENT_SESSION_SCHEMA, data: SESSION }]);
    await tracker.flush();
    const query = {
      schema: 'iglu:com.acme/checkout/jsonschema',
      contexts: ['iglu:com.snowplowanalytics.snowplow/client_session/jsonschema', { schema: CLIENT_SESSION_SCHEMA, data: { sessionIndex: 3 } }],
      data: { orderId: 'o-1', total: 19.99 },
      app_id: 'wait-parts',
      event_name: 'checkout',
      name_tracker: 'wait-parts',
      headers: { 'x-test-id': 'parts-1' },
    };
    const [event] = await collector.waitFor(query, { timeout: 0 });
    expect(event).toMatchObject({ unstruct_event_com_acme_checkout_1: { orderId: 'o-1', total: 19.99, currency: 'EUR' } });
    // Each part on its own turns a match into a miss.
    for (const miss of [{ schema: 'iglu:com.acme/checkout/jsonschema/1-0-1' }, { contexts: ['iglu:com.acme/user/jsonschema/1-0-0'] }, { contexts: [{ schema: CLIENT_SESSION_SCHEMA, data: { sessionIndex: 4 } }] }, { data: { total: 20 } }, { event_name: 'refund' }, { headers: { 'X-Test-Id': 'parts-2' } }]) {
      await expect(collector.waitFor({ ...query, ...miss }, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
    }
  });

  it('takes a RegExp or a runner\'s asymmetric matcher as a value', async () => {
    const tracker = trackerFor('wait-matchers');
    checkout(tracker, { orderId: 'order-77', total: 5, currency: 'USD' });
    await tracker.flush();
    const events = await collector.waitFor({ app_id: /^wait-match/, data: { orderId: expect.stringMatching(/^order-\d+$/), total: expect.any(Number) } }, { timeout: 0 });
    expect(events).toHaveLength(1);
  });

  it('on a timeout, the error lists the closest events with a diff of what differs, and the failed events of the same tag with their errors', async () => {
    const tracker = trackerFor('wait-miss');
    checkout(tracker, { orderId: 'o-2', total: 12.5, currency: 'EUR' });
    checkout(tracker, { orderId: 'o-3', total: -5, currency: 'EUR' }); // fails: minimum 0
    trackerFor('someone-else').track(buildStructEvent({ category: 'x', action: 'y' }));
    tracker.track(buildStructEvent({ category: 'shop', action: 'view' }));
    await tracker.flush();
    const started = Date.now();
    const error = (await rejection(collector.waitFor({ app_id: 'wait-miss', schema: 'iglu:com.acme/checkout/jsonschema', data: { total: 10 } }, { timeout: 200 }))) as WaitTimeoutError;
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.found).toBe(0);
    expect(error.closest[0]).toMatchObject({ mismatches: ['data.total'], expected: { data: { total: 10 } }, actual: { data: { total: 12.5 } } });
    expect(error.closest[0]!.event).toMatchObject({ app_id: 'wait-miss', unstruct_event_com_acme_checkout_1: { orderId: 'o-2' } });
    expect(error.bad).toHaveLength(1); // someone-else's events are not listed
    expect(error.bad[0]!.errors).toEqual([{ schema: CHECKOUT, path: '$.total', message: '$.total: must be >= 0, found -5' }]);
    expect(error.message).toContain('snowplow-client-session: waitFor timed out. 0 of 1 event matching {"app_id":"wait-miss","schema":"iglu:com.acme/checkout/jsonschema","data":{"total":10}} arrived within 200 ms');
    expect(error.message).toContain('Closest events:\n  1. iglu:com.acme/checkout/jsonschema/1-0-0 (app_id "wait-miss"; no entities;');
    expect(error.message).toContain('differs in: data.total');
    expect(error.message).toMatch(/\+ +total: 12\.5\n.*- +total: 10/);
    expect(error.message).toContain(`Failed events (1):\n  1. ${CHECKOUT} (app_id "wait-miss"`);
    expect(error.message).toContain(`       ${CHECKOUT}: $.total: must be >= 0, found -5`);
    // Without the schema in the query, the checkout that has a total still ranks before the newer struct
    // event; another test's event (another app_id) comes last, though its total is nearer.
    checkout(trackerFor('someone-else'), { orderId: 'o-3', total: 10.5, currency: 'EUR' });
    await collector.waitFor({ app_id: 'someone-else', data: { orderId: 'o-3' } });
    const ranked = (await rejection(collector.waitFor({ app_id: 'wait-miss', data: { total: 10 } }, { timeout: 0 }))) as WaitTimeoutError;
    expect(ranked.closest.map((closest) => [closest.event.app_id, closest.event.event])).toEqual([['wait-miss', 'unstruct'], ['wait-miss', 'struct'], ['someone-else', 'unstruct']]);
  });

  it('counts only events since a point in time, and reports how many of count arrived', async () => {
    const tracker = trackerFor('wait-since');
    tracker.track(buildStructEvent({ category: 'shop', action: 'tick' }));
    await tracker.flush();
    await new Promise((resolve) => setTimeout(resolve, 5)); // the next event's collector_tstamp is later
    const since = new Date();
    tracker.track(buildStructEvent({ category: 'shop', action: 'tick' }));
    await tracker.flush();
    expect(await collector.waitFor({ app_id: 'wait-since' }, { count: 2, timeout: 0 })).toHaveLength(2);
    const error = (await rejection(collector.waitFor({ app_id: 'wait-since' }, { count: 2, timeout: 0, since }))) as WaitTimeoutError;
    expect(error.found).toBe(1);
    expect(error.message).toContain('1 of 2 events matching {"app_id":"wait-since"} arrived within 0 ms (1 good event looked at).');
    expect(await collector.waitFor({ app_id: 'wait-since' }, { since: since.toISOString(), timeout: 0 })).toHaveLength(1);
  });

  it('refuses a wrong query or option at once, naming it (a TypeError; no wait)', async () => {
    await expect(collector.waitFor({ ap_id: 'x' } as never)).rejects.toThrow('snowplow-client-session: waitFor: unknown query field "ap_id" (did you mean app_id?)');
    await expect(collector.waitFor({ schema: 'com.acme/checkout' })).rejects.toThrow('schema must be an Iglu URI such as iglu:com.acme/checkout/jsonschema/1-0-0');
    await expect(collector.waitFor({ app_id: { nested: 1 } })).rejects.toThrow('app_id must be a string, number, boolean or null');
    await expect(collector.waitFor({}, { count: 0 })).rejects.toThrow('count must be a whole number >= 1, got 0');
    await expect(collector.waitFor({}, { timeout: 600_001 })).rejects.toThrow(TypeError);
    await expect(collector.waitFor({}, { since: 'yesterday' })).rejects.toThrow('since must be a Date');
    expect(collector.usage().waits).toBe(0);
  });

  it('a wait in flight ends when the collector closes', async () => {
    const own = await startCollector({ port: 0 });
    const waiting = rejection(own.waitFor({ app_id: 'never' }, { timeout: 60_000 }));
    await own.close();
    expect((await waiting).message).toBe('snowplow-client-session: the collector was closed during waitFor');
  });
});

describe('expectNoBadEvents', () => {
  it('throws listing the failed events and their errors; a query (a tag) and since narrow what counts', async () => {
    const tracker = trackerFor('bad-events');
    tracker.track(buildStructEvent({ category: 'shop', action: 'fine' }));
    await tracker.flush();
    expect(() => collector.expectNoBadEvents({ app_id: 'bad-events' })).not.toThrow();
    const since = new Date(Date.now() + 5);
    await new Promise((resolve) => setTimeout(resolve, 10));
    checkout(tracker, { orderId: 'o-4', total: 1, currency: 'EURO' }, [{ schema: CLIENT_SESSION_SCHEMA, data: { ...SESSION, sessionIndex: 'three' } }]);
    await tracker.flush();
    let error: unknown;
    try {
      collector.expectNoBadEvents({ app_id: 'bad-events' });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(BadEventsError);
    const { message, bad, total } = error as BadEventsError;
    expect(total).toBe(1);
    expect(bad[0]!.errors).toEqual([
      { schema: CLIENT_SESSION_SCHEMA, path: '$.sessionIndex', message: '$.sessionIndex: expected integer, found string' },
      { schema: CHECKOUT, path: '$.currency', message: '$.currency: must NOT have more than 3 characters, found "EURO"' },
    ]);
    expect(message).toContain('snowplow-client-session: expected no failed events, found 1.\nFailed events (1):\n  1. iglu:com.acme/checkout/jsonschema/1-0-0 (app_id "bad-events";');
    expect(() => collector.expectNoBadEvents({ app_id: 'bad-events' }, { since })).toThrow(BadEventsError);
    expect(() => collector.expectNoBadEvents({ app_id: 'bad-events' }, { since: new Date(Date.now() + 60_000) })).not.toThrow();
    expect(() => collector.expectNoBadEvents({ app_id: 'another-test' })).not.toThrow();
    expect(() => collector.expectNoBadEvents({ app_id: 'bad-events', se_action: 'fine' })).not.toThrow();
  });
});

describe('POST /micro/wait and the wait command, from child processes', () => {
  const waitCli = (args: string[]): RunningCli => spawnCli('collector', ['wait', '--url', collector.url, '--json', ...args]);

  /** Until the collector holds `n` waits (the child's request has arrived and waits). */
  async function waitsInFlight(n: number): Promise<void> {
    for (let i = 0; i < 500 && collector.usage().waits !== n; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(collector.usage().waits).toBe(n);
  }

  it('events that arrive after the wait starts: 200 {events}, exit 0', async () => {
    const child = waitCli(['--query', JSON.stringify({ app_id: 'http-after', se_action: 'pay' }), '--count', '2', '--timeout', '30000']);
    await waitsInFlight(1);
    const tracker = trackerFor('http-after');
    tracker.track(buildStructEvent({ category: 'shop', action: 'pay', label: 'a' }));
    tracker.track(buildStructEvent({ category: 'shop', action: 'pay', label: 'b' }));
    await tracker.flush();
    const { code, stdout } = await child.done;
    expect(code).toBe(0);
    const body = JSON.parse(stdout) as { events: Array<Record<string, unknown>> };
    expect(Object.keys(body)).toEqual(['events']);
    expect(body.events.map((e) => [e.app_id, e.se_label])).toEqual([['http-after', 'a'], ['http-after', 'b']]);
  });

  it('events that arrived before: 200 at once; without --json it says how many arrived', async () => {
    const tracker = trackerFor('http-before');
    tracker.track(buildStructEvent({ category: 'shop', action: 'pay' }));
    await tracker.flush();
    const child = spawnCli('collector', ['wait', '--url', collector.url, '--query', '{"app_id": "http-before"}', '--timeout', '30000']);
    const { code, stdout } = await child.done;
    expect(code).toBe(0);
    expect(stdout).toBe('1 event matching {"app_id":"http-before"} arrived.\n');
  });

  it('never: 408 {closest, bad, found} after the timeout, exit 1; the explanation on stderr without --json', async () => {
    const tracker = trackerFor('http-never');
    checkout(tracker, { orderId: 'o-5', total: 3, currency: 'EUR' });
    checkout(tracker, { orderId: 'o-6', total: 3, currency: 'EURO' });
    await tracker.flush();
    const query = JSON.stringify({ app_id: 'http-never', data: { orderId: 'o-9' } });
    const asJson = await waitCli(['--query', query, '--timeout', '300']).done;
    expect(asJson.code).toBe(1);
    const body = JSON.parse(asJson.stdout) as { closest: Array<{ mismatches: string[]; event: Record<string, unknown> }>; bad: Array<{ errors: unknown[] }>; found: number };
    expect(Object.keys(body)).toEqual(['closest', 'bad', 'found']);
    expect(body.found).toBe(0);
    expect(body.closest[0]).toMatchObject({ mismatches: ['data.orderId'], event: { app_id: 'http-never' } });
    expect(body.bad[0]!.errors).toEqual([{ schema: CHECKOUT, path: '$.currency', message: '$.currency: must NOT have more than 3 characters, found "EURO"' }]);

    const asText = await spawnCli('collector', ['wait', '--url', collector.url, '--query', query, '--timeout', '300']).done;
    expect(asText.code).toBe(1);
    expect(asText.stderr).toContain('collector wait: timed out. 0 of 1 event matching {"app_id":"http-never","data":{"orderId":"o-9"}} arrived within 300 ms.');
    expect(asText.stderr).toContain('differs in: data.orderId');
    expect(asText.stderr).toContain(`${CHECKOUT}: $.currency: must NOT have more than 3 characters, found "EURO"`);
  });

  it('a client that goes away ends its wait; a wrong query is 400 (exit 2); no collector is exit 2', async () => {
    const child = waitCli(['--query', '{"app_id": "http-gone"}', '--timeout', '60000']);
    await waitsInFlight(1);
    child.kill();
    await child.done;
    await waitsInFlight(0);

    const response = await fetch(`${collector.url}/micro/wait`, { method: 'POST', body: JSON.stringify({ query: { ap_id: 'x' } }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('unknown query field "ap_id" (did you mean app_id?)');
    expect((await fetch(`${collector.url}/micro/wait`, { method: 'POST', body: '{"query": {}, "timeot": 5}' })).status).toBe(400);
    expect((await fetch(`${collector.url}/micro/wait`)).status).toBe(405);

    const refused = await spawnCli('collector', ['wait', '--query', '{"ap_id": "x"}', '--url', collector.url]).done;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('collector wait: the collector refused the query: unknown query field "ap_id"');
    const closed = await startCollector({ port: 0 });
    await closed.close(); // a port nothing listens on
    const unreachable = await spawnCli('collector', ['wait', '--url', closed.url, '--timeout', '100']).done;
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toBe(`collector wait: cannot reach the collector at ${closed.url}: ECONNREFUSED\n`);
  });
});
