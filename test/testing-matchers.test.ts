// snowplow-client-session/testing in this repository's Jest: the matchers' messages and `.not`, the
// node:test assertions' errors. (test/package.test.ts runs them from the packed tarball in Jest, Vitest
// and node:test.) The `declare module 'expect'` below is docs/testing.md's, type-checked by `npm test`.
import { AssertionError } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSelfDescribingEvent, newTracker } from '@snowplow/node-tracker';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';
import { assertNoBadEvents, assertTracked, snowplowMatchers, type SnowplowMatchers } from '../plugin/testing/index.js';

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> extends SnowplowMatchers<Promise<R>> {}
}

expect.extend(snowplowMatchers);

const SCHEMAS = fileURLToPath(new URL('../examples/schemas', import.meta.url));
const CHECKOUT = 'iglu:com.acme/checkout/jsonschema/1-0-0';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startCollector({ port: 0, schemas: [SCHEMAS] });
  const tracker = newTracker({ namespace: 'matchers', appId: 'shop' }, { endpoint: collector.url });
  for (const total of [12.5, -5]) tracker.track(buildSelfDescribingEvent({ event: { schema: CHECKOUT, data: { orderId: 'o-1', total, currency: 'EUR' } } }));
  await tracker.flush();
});
afterAll(() => collector.close());

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('snowplowMatchers', () => {
  it('toHaveTrackedEvent passes on a match and fails with a hint, the explanation and a diff', async () => {
    await expect(collector).toHaveTrackedEvent({ name_tracker: 'matchers', data: { total: 12.5 } });
    const { message } = await failure(() => expect(collector).toHaveTrackedEvent({ name_tracker: 'matchers', data: { total: 10 } }, { timeout: 50 }));
    expect(message).toContain('expect(collector).toHaveTrackedEvent(query)');
    expect(message).toContain('0 of 1 event matching {"name_tracker":"matchers","data":{"total":10}} arrived within 50 ms');
    expect(message).toMatch(/-\s+"total": 10,\n\s*\+\s+"total": 12\.5,/);
    expect(message).toContain(`${CHECKOUT}: $.total: must be >= 0, found -5`);
  });

  it('.not looks at what has arrived, without waiting: it passes on an absence and fails listing what matched', async () => {
    const started = Date.now();
    await expect(collector).not.toHaveTrackedEvent({ name_tracker: 'matchers', data: { total: 99 } }, { timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    const { message } = await failure(() => expect(collector).not.toHaveTrackedEvent({ name_tracker: 'matchers' }));
    expect(message).toContain('expect(collector).not.toHaveTrackedEvent(query)');
    expect(message).toContain(`Expected no event matching {"name_tracker":"matchers"}, found 1:\n  1. ${CHECKOUT} (app_id "shop"`);
  });

  it('toHaveNoBadEvents lists the failed events; a query that none match passes', async () => {
    await expect(collector).toHaveNoBadEvents({ name_tracker: 'someone-else' });
    const { message } = await failure(() => expect(collector).toHaveNoBadEvents());
    expect(message).toContain('expect(collector).toHaveNoBadEvents()');
    expect(message).toContain(`Failed events (1):\n  1. ${CHECKOUT} (app_id "shop"`);
  });

  it('a received value that is not a collector is an error saying what to pass', async () => {
    await expect(expect('http://127.0.0.1:9090').toHaveTrackedEvent({})).rejects.toThrow(
      'snowplow-client-session: expect(collector).toHaveTrackedEvent(query, options?) takes the collector that startCollector() resolves to (from snowplow-client-session/collector), got string',
    );
  });
});

describe('assertTracked and assertNoBadEvents', () => {
  it('resolve with the events, or throw node:assert AssertionErrors with the explanation and the closest pair', async () => {
    expect(await assertTracked(collector, { name_tracker: 'matchers', data: { total: 12.5 } })).toHaveLength(1);
    const missed = await failure(() => assertTracked(collector, { name_tracker: 'matchers', data: { total: 10 } }, { timeout: 50 }));
    expect(missed).toBeInstanceOf(AssertionError);
    expect(missed).toMatchObject({ operator: 'assertTracked', expected: { data: { total: 10 } }, actual: { data: { total: 12.5 } } });
    expect(missed.message).toMatch(/^assertTracked: 0 of 1 event matching/);
    expect(() => assertNoBadEvents(collector, { name_tracker: 'someone-else' })).not.toThrow();
    expect(() => assertNoBadEvents(collector)).toThrow(AssertionError);
    expect(() => assertNoBadEvents(collector)).toThrow(/^assertNoBadEvents: expected no failed events, found 1\.\nFailed events \(1\):/);
    expect(() => assertNoBadEvents({} as never)).toThrow('takes the collector that startCollector() resolves to');
  });
});
