// Vitest 4: npx vitest run
import { buildSelfDescribingEvent, newTracker } from '@snowplow/node-tracker';
import { startCollector } from 'snowplow-client-session/collector';
import { snowplowMatchers } from 'snowplow-client-session/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';

expect.extend(snowplowMatchers);

/** The code under test: it tracks a checkout. */
function placeOrder(tracker, order) {
  tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/checkout/jsonschema/1-0-0', data: order } }));
}

let collector;
beforeAll(async () => {
  collector = await startCollector({ port: 0, schemas: ['schemas'] }); // your static Iglu repository
});
afterAll(() => collector.close());

test('two checkouts are tracked, in order', async () => {
  const tracker = newTracker({ namespace: 'vitest-checkout', appId: 'shop' }, { endpoint: collector.url });
  placeOrder(tracker, { orderId: 'o-1', total: 10, currency: 'EUR' });
  placeOrder(tracker, { orderId: 'o-2', total: 20, currency: 'EUR' });
  await tracker.flush();
  await expect(collector).toHaveTrackedEvent({ name_tracker: 'vitest-checkout', data: { currency: 'EUR' } }, { count: 2 });
  await expect(collector).not.toHaveTrackedEvent({ name_tracker: 'vitest-checkout', data: { orderId: 'o-3' } });
  await expect(collector).toHaveNoBadEvents({ name_tracker: 'vitest-checkout' });
});
