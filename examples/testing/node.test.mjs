// node:test: node --test
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildSelfDescribingEvent, newTracker } from '@snowplow/node-tracker';
import { startCollector } from 'snowplow-client-session/collector';
import { assertNoBadEvents, assertTracked } from 'snowplow-client-session/testing';

/** The code under test: it tracks a checkout. */
function placeOrder(tracker, order) {
  tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/checkout/jsonschema/1-0-0', data: order } }));
}

let collector;
before(async () => {
  collector = await startCollector({ port: 0, schemas: ['schemas'] }); // your static Iglu repository
});
after(() => collector.close());

test('a checkout is tracked with its order', async () => {
  const tracker = newTracker({ namespace: 'node-checkout', appId: 'shop' }, { endpoint: collector.url });
  placeOrder(tracker, { orderId: 'o-1', total: 19.99, currency: 'EUR' });
  await tracker.flush();
  const [event] = await assertTracked(collector, { name_tracker: 'node-checkout', schema: 'iglu:com.acme/checkout/jsonschema' });
  assert.equal(event.unstruct_event_com_acme_checkout_1.total, 19.99); // the Analytics SDK JSON, as /micro/events answers
  assertNoBadEvents(collector, { name_tracker: 'node-checkout' });
});
