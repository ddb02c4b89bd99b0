// Every event builder of tracker-core 4.8.0, sent by the real node-tracker with the plugin over HTTP to the
// collector: each must validate good against the vendored Iglu Central schemas, offline.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as core from '@snowplow/tracker-core';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';
import { createClientSession, MemorySessionStore } from '../plugin/index.js';
import { httpTracker, micro } from './helpers/micro.js';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startCollector({ port: 0 });
});
afterAll(() => collector.close());

const ID = '123e4567-e89b-12d3-a456-426614174000';
const events: Array<[string, core.PayloadBuilder]> = [
  ['buildPageView', core.buildPageView({ pageUrl: 'https://example.com/', pageTitle: 'Home', referrer: 'https://example.org/' })],
  ['buildPagePing', core.buildPagePing({ pageUrl: 'https://example.com/', minXOffset: 0, maxXOffset: 10, minYOffset: 0, maxYOffset: 100 })],
  ['buildStructEvent', core.buildStructEvent({ category: 'shop', action: 'add', label: 'sku-1', property: 'red', value: 2.5 })],
  ['buildEcommerceTransaction', core.buildEcommerceTransaction({ orderId: 'o-1', total: 19.99, affiliation: 'web', tax: 1.5, shipping: 3, city: 'Berlin', country: 'DE', currency: 'EUR' })],
  ['buildEcommerceTransactionItem', core.buildEcommerceTransactionItem({ orderId: 'o-1', sku: 'sku-1', price: 9.99, quantity: 2, name: 'Thing', category: 'things', currency: 'EUR' })],
  ['buildScreenView', core.buildScreenView({ name: 'Home', id: ID })],
  ['buildSelfDescribingEvent', core.buildSelfDescribingEvent({ event: { schema: 'iglu:com.snowplowanalytics.snowplow/application_foreground/jsonschema/1-0-0', data: { foregroundIndex: 1 } } })],
  ['buildLinkClick', core.buildLinkClick({ targetUrl: 'https://example.com/a', elementId: 'a1', elementClasses: ['nav'], elementTarget: '_blank', elementContent: 'A' })],
  ['buildAdImpression', core.buildAdImpression({ impressionId: 'i-1', costModel: 'cpm', cost: 0.5, targetUrl: 'https://example.com/ad', bannerId: 'b-1', zoneId: 'z-1', advertiserId: 'adv-1', campaignId: 'c-1' })],
  ['buildAdClick', core.buildAdClick({ targetUrl: 'https://example.com/ad', clickId: 'k-1', costModel: 'cpc', cost: 0.2, bannerId: 'b-1', zoneId: 'z-1', impressionId: 'i-1', advertiserId: 'adv-1', campaignId: 'c-1' })],
  ['buildAdConversion', core.buildAdConversion({ conversionId: 'v-1', costModel: 'cpa', cost: 5, category: 'signup', action: 'register', property: 'form', initialValue: 10, advertiserId: 'adv-1', campaignId: 'c-1' })],
  ['buildSocialInteraction', core.buildSocialInteraction({ action: 'like', network: 'mastodon', target: 'post-1' })],
  ['buildAddToCart', core.buildAddToCart({ sku: 'sku-1', name: 'Thing', category: 'things', unitPrice: 9.99, quantity: 1, currency: 'EUR' })],
  ['buildRemoveFromCart', core.buildRemoveFromCart({ sku: 'sku-1', name: 'Thing', category: 'things', unitPrice: 9.99, quantity: 1, currency: 'EUR' })],
  ['buildFormFocusOrChange (focus)', core.buildFormFocusOrChange({ schema: 'focus_form', formId: 'f-1', elementId: 'email', nodeName: 'INPUT', type: 'email', elementClasses: ['field'], value: 'a@example.com' })],
  ['buildFormFocusOrChange (change)', core.buildFormFocusOrChange({ schema: 'change_form', formId: 'f-1', elementId: 'email', nodeName: 'INPUT', type: 'email', elementClasses: ['field'], value: 'a@example.com' })],
  ['buildFormSubmission', core.buildFormSubmission({ formId: 'f-1', formClasses: ['signup'], elements: [{ name: 'email', value: 'a@example.com', nodeName: 'INPUT', type: 'email' }] })],
  ['buildSiteSearch', core.buildSiteSearch({ terms: ['red', 'shoes'], filters: { size: '42', inStock: true }, totalResults: 12, pageResults: 10 })],
  ['buildConsentGranted', core.buildConsentGranted({ id: 'consent-1', version: '1.0', name: 'Terms', description: 'Our terms', expiry: '2027-01-01T00:00:00Z' }).event],
  ['buildConsentWithdrawn', core.buildConsentWithdrawn({ all: false, id: 'consent-1', version: '1.0', name: 'Terms', description: 'Our terms' }).event],
];

it(`every tracker-core 4.8.0 builder (${events.length} events) validates good through the collector, with the plugin's entity`, async () => {
  const api = micro(collector.url);
  await api.reset();
  const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0 });
  const tracker = httpTracker(`${collector.url}`, session);
  for (const [, event] of events) tracker.track(event);
  await tracker.flush();
  for (let attempt = 0; attempt < 200 && (await api.all()).total < events.length; attempt++) await new Promise((resolve) => setTimeout(resolve, 25));
  const bad = await api.bad();
  expect(bad.map((b) => b.errors.slice(1).join('\n'))).toEqual([]);
  expect(await api.all()).toEqual({ total: events.length, good: events.length, bad: 0 });
  await session.close();
});
