// Snowplow's real browser tracker (@snowplow/browser-tracker 4.8.0, bundled by esbuild) in headless Chromium
// sets its cookies on a page of the app; requests from that browser to the app's servers (the middleware,
// Fastify, Koa, and a route handler using withSession) track server events through the real node-tracker.
// Both trackers send to the embedded collector, where a data modeller would join them.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildStructEvent, type Tracker } from '@snowplow/node-tracker';
import { build, stop } from 'esbuild';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { startCollector, type GoodEvent, type RunningCollector } from '../plugin/collector/index.js';
import { ANONYMOUS_USER_ID, createClientSession, MemorySessionStore, readBrowserIdentity, type ClientSession, type ClientSessionEntity, type Visitor } from '../plugin/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { recordingLogger } from './helpers/capture.js';
import { httpTracker, micro } from './helpers/micro.js';
import { listen } from './helpers/visitors.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The app's tracker writes `_sp_` cookies; the page may run a second tracker (`_acme_`). */
const REQUEST_OPTIONS = { idCookiePrefix: '_sp_' };
/** Every event arrives within this (collector round trips on a busy machine); polled, not slept. */
const ARRIVES_WITHIN_MS = 20_000;

let collector: RunningCollector;
let session: ClientSession;
let tracker: Tracker;
let browser: Browser;
const logger = recordingLogger();
const closers: Array<() => Promise<unknown>> = [];
/** The app's four servers, each with a GET /checkout that tracks a server event. */
const apps: Record<string, string> = {};

/** The browser tracker, bundled for the page as Snowplow's users bundle it; esbuild's service stops after. */
async function trackerBundle(): Promise<string> {
  try {
    const result = await build({
      stdin: { contents: "import { newTracker, trackPageView } from '@snowplow/browser-tracker'; window.snowplowTest = { newTracker, trackPageView };", resolveDir: ROOT, loader: 'js' },
      bundle: true,
      write: false,
      format: 'iife',
      target: 'es2020',
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  } finally {
    await stop(); // its child process would outlive the tests (test/global-teardown.mjs)
  }
}

/** The page: the tracker (anonymous tracking with session tracking, or a second tracker, on request) tracks a page view. */
function page(url: URL): string {
  const config = {
    appId: 'web',
    eventMethod: 'post',
    bufferSize: 1,
    contexts: { session: true },
    // The test serves plain http: cookies that need no https.
    cookieSameSite: 'Lax',
    cookieSecure: false,
    ...(url.searchParams.get('anonymous') === '1' ? { anonymousTracking: { withSessionTracking: true } } : {}),
  };
  const second = url.searchParams.get('second') === '1' ? `snowplowTest.newTracker('acme', ${JSON.stringify(collector.url)}, { appId: 'web-acme', cookieName: '_acme_', cookieSameSite: 'Lax', cookieSecure: false });` : '';
  return `<!doctype html><html><body><script src="/tracker.js"></script><script>
    snowplowTest.newTracker('sp', ${JSON.stringify(collector.url)}, ${JSON.stringify(config)});
    ${second}
    snowplowTest.trackPageView({}, ['sp']);
  </script></body></html>`;
}

/** The server event each app tracks at GET /checkout?label=…, answering the visitor it saw. */
function checkout(label: string | null): Visitor | null {
  tracker.track(buildStructEvent({ category: 'shop', action: 'checkout', label: label ?? '' }));
  return session.visitor();
}

/** The web app (Connect-style middleware, session.middleware()): the page, the tracker bundle, and /checkout. */
async function startWebApp(bundle: string) {
  const scoped = session.middleware(null, REQUEST_OPTIONS);
  return listen((req: IncomingMessage, res: ServerResponse) =>
    scoped(req, res, () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/tracker.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      if (url.pathname === '/checkout') {
        const allTrackers = readBrowserIdentity(req.headers.cookie).idCookies.map((c) => c.prefix);
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ visitor: checkout(url.searchParams.get('label')), allTrackers }));
      }
      if (url.pathname !== '/') return void res.writeHead(404).end(); // e.g. /favicon.ico
      // What a first-party Snowplow collector on the app's domain does: the network user id in the sp cookie.
      const sp = url.searchParams.get('anonymous') === '1' ? [] : [`sp=${randomUUID()}; Path=/; SameSite=Lax`];
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': sp }).end(page(url));
    }),
  );
}

async function startFastify(): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(session.fastify(REQUEST_OPTIONS));
  app.get<{ Querystring: { label: string } }>('/checkout', async (request) => ({ visitor: checkout(request.query.label) }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

function startKoa() {
  const app = new Koa();
  app.use(session.koa(REQUEST_OPTIONS));
  app.use(async (ctx) => {
    if (ctx.path === '/checkout') ctx.body = { visitor: checkout(ctx.query.label as string) }; // else 404 (Chromium asks for /favicon.ico)
  });
  return listen(app.callback());
}

/** A Next.js-style route handler (a Fetch API Request in, a Response out), served from node:http as Next serves it. */
function startRouteHandler() {
  async function GET(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== '/checkout') return new Response(null, { status: 404 });
    return session.withSession(request, () => Response.json({ visitor: checkout(new URL(request.url).searchParams.get('label')) }), REQUEST_OPTIONS);
  }
  return listen(async (req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const response = await GET(new Request(`http://${req.headers.host}${req.url}`, { headers }));
    res.writeHead(response.status, { 'content-type': 'application/json' }).end(await response.text());
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  collector = await startCollector({ port: 0 });
  closers.push(() => collector.close());
  session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0, logger });
  closers.push(() => session.close());
  tracker = httpTracker(collector.url, session);
  const bundle = await trackerBundle();
  const web = await startWebApp(bundle);
  const fastify = await startFastify();
  const koa = await startKoa();
  const next = await startRouteHandler();
  closers.push(web.close, () => fastify.close(), koa.close, next.close);
  Object.assign(apps, { web: web.url, fastify: fastify.listeningOrigin, koa: koa.url, next: next.url });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  closers.push(() => browser.close());
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** Polls the collector until `done(events)` (bounded). */
async function collected(done: (events: GoodEvent[]) => boolean): Promise<GoodEvent[]> {
  const deadline = Date.now() + ARRIVES_WITHIN_MS;
  for (;;) {
    const events = await micro(collector.url).good();
    if (done(events)) return events;
    if (Date.now() > deadline) throw new Error(`the collector did not get the expected events within ${ARRIVES_WITHIN_MS} ms (${events.length} so far)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface VisitResult {
  context: BrowserContext;
  /** The browser's own page view, as the collector has it. */
  pageView: GoodEvent['event'];
  /** What each app answered at /checkout. */
  answers: Record<string, { visitor: Visitor; allTrackers?: string[] }>;
}

/** A visitor: a browser context loads the page (the browser tracker sets its cookies), then checks out on each app. */
async function visit(name: string, query = ''): Promise<VisitResult> {
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(`${apps.web}/?visitor=${name}${query}`);
  await tab.waitForFunction(() => /_sp_id\.[0-9a-f]{4}=/.test((globalThis as unknown as { document: { cookie: string } }).document.cookie) && /_sp_ses\./.test((globalThis as unknown as { document: { cookie: string } }).document.cookie));
  const isPageView = (e: GoodEvent) => e.event.app_id === 'web' && String(e.event.page_url).includes(`visitor=${name}`);
  const pageView = (await collected((all) => all.some(isPageView))).find(isPageView)!.event;
  const answers: VisitResult['answers'] = {};
  for (const [app, url] of Object.entries(apps)) {
    const response = await tab.goto(`${url}/checkout?label=${name}-${app}`);
    expect(response!.status()).toBe(200);
    answers[app] = (await response!.json()) as VisitResult['answers'][string];
  }
  return { context, pageView, answers };
}

const serverEvents = (events: GoodEvent[], name: string) => events.filter((e) => String(e.event.se_label).startsWith(`${name}-`)).map((e) => e.event);
const entityOf = (event: GoodEvent['event']) => (event.contexts as { data: Array<{ schema: string; data: ClientSessionEntity }> }).data.find((c) => c.schema === CLIENT_SESSION_SCHEMA)!.data;

describe('the browser tracker\'s session, joined by the server (real tracker in Chromium)', () => {
  let alice: VisitResult;
  let bob: VisitResult;
  let anonymous: VisitResult;
  let events: GoodEvent[];

  beforeAll(async () => {
    [alice, bob, anonymous] = await Promise.all([visit('alice'), visit('bob', '&second=1'), visit('anon', '&anonymous=1')]);
    const expected = 3 + 3 * Object.keys(apps).length; // the page views, and each visitor's checkout on each app
    events = await collected((all) => all.length >= expected);
    expect(collector.counts()).toEqual({ total: expected, good: expected, bad: 0 });
    for (const v of [alice, bob, anonymous]) await v.context.close();
  }, 60_000);

  it('reads the cookie the real tracker wrote: its session, index and first event are the page view\'s', () => {
    for (const { pageView, answers } of [alice, bob]) {
      expect(answers.web!.visitor.browser.idCookie).toMatchObject({
        prefix: '_sp_',
        domainUserId: pageView.domain_userid,
        sessionId: pageView.domain_sessionid,
        sessionIndex: pageView.domain_sessionidx,
        firstEventId: pageView.event_id,
        firstEventTimestamp: Date.parse(pageView.dvce_created_tstamp as string),
        eventIndex: 1,
        sessionLive: true,
      });
      expect(answers.web!.visitor.browser.networkUserId).toBe(pageView.network_userid); // the sp cookie
    }
    expect(bob.answers.web!.allTrackers!.sort()).toEqual(['_acme_', '_sp_']); // two trackers' cookies; idCookiePrefix chose _sp_
  });

  it('server events from every framework carry the browser\'s duid, sid, vid and nuid: a data model puts them in the visit', () => {
    for (const [name, { pageView }] of [['alice', alice], ['bob', bob]] as const) {
      const server = serverEvents(events, name);
      expect(server.map((e) => e.se_label).sort()).toEqual(Object.keys(apps).map((app) => `${name}-${app}`).sort());
      for (const event of server) {
        expect(event.platform).toBe('srv');
        expect([event.domain_userid, event.domain_sessionid, event.domain_sessionidx, event.network_userid]).toEqual([pageView.domain_userid, pageView.domain_sessionid, pageView.domain_sessionidx, pageView.network_userid]);
      }
      // Grouped by domain_sessionid, as the web data models do, the visit holds the page view and the four server events.
      expect(events.filter((e) => e.event.domain_sessionid === pageView.domain_sessionid)).toHaveLength(1 + Object.keys(apps).length);
    }
  });

  it('two browser contexts are two visitors: two server sessions; one visitor keeps one server session across the four frameworks', () => {
    const [a, b] = [serverEvents(events, 'alice').map(entityOf), serverEvents(events, 'bob').map(entityOf)];
    expect(new Set(a.map((e) => e.sessionId)).size).toBe(1);
    expect(new Set(b.map((e) => e.sessionId)).size).toBe(1);
    expect(a[0]!.sessionId).not.toBe(b[0]!.sessionId);
    expect(a.map((e) => e.eventIndex).sort()).toEqual([1, 2, 3, 4]);
    expect(a[0]!.userId).toBe(alice.pageView.domain_userid); // as the browser's own client_session entity
    expect(b[0]!.userId).toBe(bob.pageView.domain_userid);
    for (const { answers } of [alice, bob]) expect(Object.values(answers).map((answer) => answer.visitor.keySource)).toEqual(['domainUserId', 'domainUserId', 'domainUserId', 'domainUserId']);
  });

  it('only the first page loads, before the tracker set its cookies, were unkeyed: warned once, nothing else went wrong', () => {
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/a request has no signed-in user \(keyOf\), no browser tracker id cookie/);
    expect(logger.errors).toEqual([]);
  });

  it('a browser tracking anonymously (withSessionTracking): keyed by its session, no domain user id anywhere, the session joined', () => {
    expect(anonymous.pageView.domain_userid).toBeNull();
    expect(anonymous.answers.web!.visitor).toMatchObject({ keySource: 'browserSession', browserAnonymous: true });
    const server = serverEvents(events, 'anon');
    expect(server).toHaveLength(Object.keys(apps).length);
    for (const event of server) {
      expect(event.domain_userid).toBeNull();
      expect(event.domain_sessionid).toBe(anonymous.pageView.domain_sessionid);
      expect(entityOf(event)).toMatchObject({ userId: ANONYMOUS_USER_ID, previousSessionId: null });
    }
  });
});
