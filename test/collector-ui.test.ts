// The collector's web UI in Debian's headless Chromium (driven by playwright-core), fed by the real
// node-tracker with the plugin over HTTP: DOM assertions, and screenshots kept in test-artifacts/ui/.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent, type Tracker } from '@snowplow/node-tracker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';
import { createClientSession, MemorySessionStore, type ClientSession } from '../plugin/index.js';
import { APPLICATION_BACKGROUND_SCHEMA, APPLICATION_FOREGROUND_SCHEMA } from '../plugin/schema-uris.js';
import { httpTracker } from './helpers/micro.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/ui/', import.meta.url));
/**
 * The UI polls every 2 s; a change must show within some polls. Only a failing test waits this long, so the
 * bound is generous: a Chromium on 2 cores shared with other work (load average 10+) took over 5 polls.
 */
const SHOWS_WITHIN_MS = 10 * 2000;
const MINUTE = 60_000;

let collector: RunningCollector;
let browser: Browser;
let page: Page;
let session: ClientSession;
let tracker: Tracker;
let time = Date.UTC(2026, 0, 1, 9);
const track = (action: string) => tracker.track(buildStructEvent({ category: 'shop', action }), null, time);
const selfDescribing = (schema: string, data: Record<string, unknown>) => tracker.track(buildSelfDescribingEvent({ event: { schema, data } }), null, time);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  collector = await startCollector({ port: 0 });
  session = await createClientSession({ store: new MemorySessionStore(), foregroundTimeout: 600, backgroundTimeout: 300, sessionEvents: true, now: () => time });
  tracker = httpTracker(collector.url, session);
  // A journey: a foreground timeout, a background period with a background timeout, one failed event.
  track('view_home');
  time += 11 * MINUTE;
  track('add_to_cart');
  selfDescribing(APPLICATION_BACKGROUND_SCHEMA, { backgroundIndex: 'first' }); // a string where the schema wants an integer: failed
  selfDescribing(APPLICATION_BACKGROUND_SCHEMA, { backgroundIndex: 1 });
  time += 6 * MINUTE;
  track('background_sync');
  selfDescribing(APPLICATION_FOREGROUND_SCHEMA, { foregroundIndex: 1 });
  track('checkout');
  await tracker.flush();
  await mkdir(ARTIFACTS, { recursive: true });
  // The flags the machine needs: no sandbox as root, no background connections (the network is closed).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
  await page.goto(`${collector.url}/micro/ui`);
  await page.locator('[data-testid=event-row]').first().waitFor();
  expect(problems).toEqual([]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await session?.close();
  await collector?.close();
});

const rows = () => page.locator('[data-testid=event-row]');
const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
/** Waits until the table holds `count` rows (the filter's request answered). */
const rowCount = (count: number) => elementCount('[data-testid=event-row]', count);
/** Waits until the page holds `count` elements matching `selector`. */
const elementCount = (selector: string, count: number) =>
  page.waitForFunction(([css, n]) => (globalThis as unknown as BrowserGlobals).document.querySelectorAll(css).length === n, [selector, count] as const, { timeout: SHOWS_WITHIN_MS });
/** What the functions run in the page use of it (the tests are compiled without the DOM's types). */
interface BrowserGlobals {
  document: { querySelectorAll(selector: string): { length: number }; querySelector(selector: string): { textContent: string | null } | null };
}

describe('the collector UI in Chromium', () => {
  it('lists every event with its app, name, user, session and status, newest first', async () => {
    const sent = collector.counts();
    expect(sent).toEqual({ total: 12, good: 11, bad: 1 }); // 7 tracked + 3 session_start + 2 session_end
    await rowCount(12);
    await expect(page.locator('[data-testid=page-info]').textContent()).resolves.toBe('Page 1 of 1 · 12 events');
    await expect(page.locator('[data-testid=counts]').textContent()).resolves.toBe('11 valid · 1 failed');
    const names = await page.locator('[data-testid=event-name]').allTextContents();
    expect(names[0]).toBe('struct: checkout');
    expect(names).toEqual(expect.arrayContaining(['session_start', 'session_end', 'application_background', 'struct: view_home']));
    expect(await page.locator('[data-testid=event-status]').allTextContents()).toEqual(expect.arrayContaining(['Failed', 'Valid']));
    const userId = session.getSessionContext()!.userId;
    expect(await rows().first().textContent()).toContain(userId);
    await shot('events');
  });

  it('filters on the server: failed only, then by event name', async () => {
    await page.selectOption('[data-testid=filter-status]', 'failed');
    await rowCount(1);
    expect(await page.locator('[data-testid=event-name]').allTextContents()).toEqual(['application_background']);
    await page.selectOption('[data-testid=filter-status]', 'all');
    await page.fill('[data-testid=filter-event]', 'CHECK');
    await rowCount(1);
    expect(await page.locator('[data-testid=event-name]').allTextContents()).toEqual(['struct: checkout']);
    await page.fill('[data-testid=filter-event]', '');
    await page.fill('[data-testid=filter-column]', 'se_action');
    await page.fill('[data-testid=filter-value]', 'view');
    await rowCount(1);
    await page.fill('[data-testid=filter-column]', '');
    await page.fill('[data-testid=filter-value]', '');
    await rowCount(12);
  });

  it('shows a failed event\'s validation error pointing at the offending field', async () => {
    await page.selectOption('[data-testid=filter-status]', 'failed');
    await rowCount(1);
    await rows().first().click();
    const detail = page.locator('[data-testid=event-detail]');
    await expect(detail.locator('h2').textContent()).resolves.toMatch(/^Failed event/);
    expect(await detail.locator('[data-testid=failure-path]').allTextContents()).toEqual(['$.backgroundIndex']);
    expect(await detail.locator('[data-testid=failure-message]').textContent()).toMatch(/^expected integer, found string$/);
    expect(await detail.locator('[data-testid=failure]').textContent()).toContain(APPLICATION_BACKGROUND_SCHEMA);
    // The offending field is marked in the event data shown under the error.
    expect(await detail.locator('.json-error').getAttribute('data-path')).toBe('$.backgroundIndex');
    expect(await detail.locator('.json-error').textContent()).toContain('"first"');
    expect(await detail.locator('[data-testid=event-entity]').first().getAttribute('data-column')).toBe('contexts_com_snowplowanalytics_snowplow_client_session_1');
    await shot('failed-event');
    await page.selectOption('[data-testid=filter-status]', 'all');
    await rowCount(12);
  });

  it('draws each session on a timeline: start, end reason, events, gaps and the background period', async () => {
    await page.click('[data-testid=tab-sessions]');
    const user = page.locator('[data-testid=session-user]');
    await user.first().waitFor();
    expect(await user.count()).toBe(1);
    expect(await user.getAttribute('data-user-id')).toBe(session.getSessionContext()!.userId);
    expect(await page.locator('[data-testid=session-bar]').count()).toBe(3);
    expect(await page.locator('[data-testid=session-end-reason]').allTextContents()).toEqual(['timeout', 'backgroundTimeout', '–']);
    expect(await page.locator('[data-testid=end-reason]').allTextContents()).toEqual(['ended: timeout', 'ended: backgroundTimeout']);
    expect(await page.locator('[data-testid=background-period]').count()).toBe(1);
    expect(await page.locator('[data-testid=session-gap]').count()).toBe(2);
    expect(await page.locator('[data-testid=event-mark]').count()).toBe(12);
    expect(await page.locator('[data-testid=event-mark].tick-failed, .tick-failed').count()).toBe(1);
    await shot('sessions');
  });

  it('updates while events arrive, without a reload', async () => {
    time += 30_000;
    track('pay');
    await tracker.flush();
    const bars = page.locator('[data-testid=session-row]');
    await elementCount('[data-testid=event-mark]', 13);
    expect(await bars.count()).toBe(3);
    await page.click('[data-testid=tab-events]');
    await rowCount(13);
    expect(await page.locator('[data-testid=event-name]').first().textContent()).toBe('struct: pay');
  });

  it('pages on the server: the browser gets one page of 50, whatever the collector holds', async () => {
    const PAYLOAD_DATA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';
    const data = Array.from({ length: 2000 }, (_, i) => ({ e: 'se', tv: 'node-4.8.0', p: 'srv', aid: 'bulk', se_ca: 'bulk', se_ac: `bulk-${i}` }));
    await fetch(`${collector.url}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ schema: PAYLOAD_DATA, data }) });
    await page.fill('[data-testid=filter-app]', 'bulk');
    await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid=page-info]')?.textContent === 'Page 1 of 40 · 2000 events', null, { timeout: SHOWS_WITHIN_MS });
    expect(await rows().count()).toBe(50);
    await page.click('[data-testid=page-next]');
    await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid=page-info]')?.textContent?.startsWith('Page 2 of 40') === true, null, { timeout: SHOWS_WITHIN_MS });
    expect(await rows().count()).toBe(50);
    await page.fill('[data-testid=filter-app]', '');
  });

  it('serves its files with a policy that loads nothing from elsewhere', async () => {
    const response = await fetch(`${collector.url}/micro/ui`);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(await response.text()).not.toMatch(/https?:\/\//);
    const script = await (await fetch(`${collector.url}/micro/ui/app.js`)).text();
    expect(script).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // no CDN: the only URL is the SVG namespace
  });
});
