// A browser test: Playwright drives Chromium on a page whose tracker sends to the collector.
// node --test examples/testing/browser.test.mjs   (playwright-core, and Chromium at /usr/bin/chromium or CHROMIUM_PATH)
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startCollector } from 'snowplow-client-session/collector';
import { assertNoBadEvents, assertTracked } from 'snowplow-client-session/testing';

/** Stands in for your web app: a page whose tracker (here, a GET pixel) sends to the collector when "Buy" is clicked. */
function servePage(collectorUrl) {
  const html = `<!doctype html><button id="buy">Buy</button><script>
    document.querySelector('#buy').onclick = () => {
      const event = { e: 'se', se_ca: 'shop', se_ac: 'buy', aid: 'web-shop', p: 'web', tv: 'js-example', eid: crypto.randomUUID(), dtm: String(Date.now()) };
      new Image().src = ${JSON.stringify(collectorUrl)} + '/i?' + new URLSearchParams(event);
    };</script>`;
  const server = createServer((req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let collector, app, browser;
before(async () => {
  collector = await startCollector({ port: 0 });
  app = await servePage(collector.url);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  app?.close();
  await collector?.close();
});

test('clicking Buy tracks a buy event', async () => {
  // A header on every request of this browser context tags this test's events (no change to the app).
  const context = await browser.newContext({ extraHTTPHeaders: { 'X-Test-Id': 'browser-buy' } });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${app.address().port}/`);
  await page.click('#buy');
  await assertTracked(collector, { headers: { 'X-Test-Id': 'browser-buy' }, se_action: 'buy', platform: 'web' }, { timeout: 10_000 });
  assertNoBadEvents(collector, { headers: { 'X-Test-Id': 'browser-buy' } });
  await context.close();
});
