// Jest (ESM): NODE_OPTIONS=--experimental-vm-modules npx jest
import { buildSelfDescribingEvent, newTracker } from '@snowplow/node-tracker';
import { startCollector } from 'snowplow-client-session/collector';
import { createValidationPlugin } from 'snowplow-client-session/iglu';
import { snowplowMatchers } from 'snowplow-client-session/testing';

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

test('a checkout is tracked with its order', async () => {
  // The tracker's namespace tags this test's events: tests running in parallel do not see each other's.
  const tracker = newTracker({ namespace: 'jest-checkout', appId: 'shop' }, { endpoint: collector.url });
  placeOrder(tracker, { orderId: 'o-1', total: 19.99, currency: 'EUR' });
  await tracker.flush();
  await expect(collector).toHaveTrackedEvent({ name_tracker: 'jest-checkout', schema: 'iglu:com.acme/checkout/jsonschema', data: { orderId: 'o-1' } });
  await expect(collector).toHaveNoBadEvents({ name_tracker: 'jest-checkout' });
});

test('an invalid order fails where it is tracked, and is not sent', () => {
  const tracker = newTracker({ namespace: 'jest-invalid', appId: 'shop' }, { endpoint: collector.url });
  tracker.addPlugin(createValidationPlugin({ onInvalid: 'throw', schemas: ['schemas'] }));
  expect(() => placeOrder(tracker, { orderId: 'o-2', total: -5, currency: 'EUR' })).toThrow('iglu:com.acme/checkout/jsonschema/1-0-0 at /total: must be >= 0, found -5');
});
