// Server-side tracking for web visitors: a real node:http server with the middleware and the real
// node-tracker. Each request is keyed by its signed-in user, else by the browser tracker's ids from its
// cookies, and its events carry the browser's ids (joined sessions).
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import { buildStructEvent, type Tracker } from '@snowplow/node-tracker';
import { ANONYMOUS_USER_ID, createClientSession, MemorySessionStore, type ClientSession, type ClientSessionOptions, type Visitor } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { recordingTracker, recordingLogger, sessionOf, type Payload } from './helpers/capture.js';
import { fakeBrowser, listen, pause } from './helpers/visitors.js';

type Request = IncomingMessage & { user?: { id: string } };

interface App {
  session: ClientSession;
  tracker: Tracker;
  payloads: Payload[];
  logger: ReturnType<typeof recordingLogger>;
  /** GET `/` with `cookie` (and `?user=` for a signed-in user): the handler tracks `events` struct events (labelled `label`), awaiting between them; answers the visitor. */
  request(options: { cookie?: string; user?: string; label?: string; events?: number }): Promise<Visitor | null>;
  /** Every event sent so far. */
  sent(): Promise<Payload[]>;
}

let open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open) await close();
  open = [];
});

/** The app: users sign in with `?user=` (an auth middleware sets `req.user` before the session middleware). */
async function startApp(options: ClientSessionOptions = {}, middleware = (s: ClientSession) => s.middleware((req: Request) => req.user?.id)): Promise<App> {
  const logger = recordingLogger();
  const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0, logger, ...options });
  const { tracker, payloads } = recordingTracker(session);
  const scoped = middleware(session);
  const server = await listen((req: Request, res) => {
    const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user');
    if (user !== null) req.user = { id: user };
    scoped(req, res, async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      for (let i = 0; i < Number(url.searchParams.get('events') ?? 1); i++) {
        await pause();
        tracker.track(buildStructEvent({ category: 'shop', action: 'step', label: url.searchParams.get('label') ?? '' }));
      }
      res.end(JSON.stringify(session.visitor()));
    });
  });
  open.push(async () => {
    await server.close();
    await session.close();
  });
  return {
    session,
    tracker,
    payloads,
    logger,
    request: async ({ cookie, user, label = '', events = 1 }) => {
      const query = new URLSearchParams({ label, events: String(events), ...(user === undefined ? {} : { user }) });
      const response = await fetch(`${server.url}/?${query}`, { headers: cookie === undefined ? {} : { cookie } });
      return (await response.json()) as Visitor | null;
    },
    sent: async () => payloads,
  };
}

const validator = new IgluValidator();
const byLabel = (payloads: Payload[], label: string) => payloads.filter((p) => p.se_la === label);

describe('every request is keyed: signed-in user, else the browser\'s ids', () => {
  it('the README pattern middleware((req) => req.user?.id): two anonymous visitors get two sessions, and no other request\'s uid', async () => {
    // The app as the README's server pattern had it, with nothing but the middleware and track().
    const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0, logger: recordingLogger() });
    const { tracker, payloads } = recordingTracker(session);
    const scoped = session.middleware((req: Request) => req.user?.id);
    const server = await listen((req, res) =>
      scoped(req, res, async () => {
        for (let i = 0; i < 3; i++) {
          await pause();
          tracker.track(buildStructEvent({ category: 'shop', action: 'step', label: new URL(req.url ?? '/', 'http://x').searchParams.get('label')! }));
        }
        res.end();
      }),
    );
    open.push(async () => {
      await server.close();
      await session.close();
    });
    const [alice, bob] = [fakeBrowser(), fakeBrowser()];
    tracker.setUserId('last-signed-in-user'); // tracker-global: from some other request
    await Promise.all([alice, bob].map((b, i) => fetch(`${server.url}/?label=${i === 0 ? 'alice' : 'bob'}`, { headers: { cookie: b.cookie } }).then((r) => r.text())));
    const [a, b] = [byLabel(payloads, 'alice').map(sessionOf), byLabel(payloads, 'bob').map(sessionOf)];
    expect(new Set(a.map((e) => e.sessionId)).size).toBe(1);
    expect(new Set(b.map((e) => e.sessionId)).size).toBe(1);
    expect(a[0]!.sessionId).not.toBe(b[0]!.sessionId);
    expect(a.map((e) => e.eventIndex)).toEqual([1, 2, 3]);
    expect(b.map((e) => e.eventIndex)).toEqual([1, 2, 3]);
    expect(payloads.map((p) => p.uid)).toEqual(Array(6).fill(undefined));
  });

  it('middleware() with no argument: events carry the browser\'s ids as duid, sid and vid (and the sp cookie as nuid); the session\'s userId is the domain user id', async () => {
    const app = await startApp({}, (s) => s.middleware());
    const browser = fakeBrowser({ visit: 5 });
    const visitor = await app.request({ cookie: browser.cookie, events: 2 });
    expect(visitor).toMatchObject({ key: `duid:${browser.duid}`, keySource: 'domainUserId', user: null, browserAnonymous: false });
    expect(visitor!.browser.idCookie).toMatchObject({ domainUserId: browser.duid, sessionId: browser.sid, sessionIndex: 5, sessionLive: true });
    const sent = await app.sent();
    for (const payload of sent) {
      expect(payload).toMatchObject({ duid: browser.duid, sid: browser.sid, vid: '5', nuid: browser.nuid });
      const entity = sessionOf(payload);
      expect(entity.userId).toBe(browser.duid); // as the browser's own client_session entity
      expect(entity.sessionId).not.toBe(browser.sid); // its own session, linked by the atomic fields
      expect(validator.validateData(CLIENT_SESSION_SCHEMA, entity).valid).toBe(true);
    }
    expect(sent.map((p) => sessionOf(p).eventIndex)).toEqual([1, 2]);
  });

  it('a signed-in user keys the request and is the uid; the browser\'s ids still join it to the visit', async () => {
    const app = await startApp();
    const browser = fakeBrowser();
    await app.request({ cookie: browser.cookie, user: 'user-42', label: 'before' });
    const visitor = await app.request({ cookie: browser.cookie, user: 'user-42', label: 'signed-in' });
    expect(visitor).toMatchObject({ key: 'user-42', keySource: 'user', user: 'user-42' });
    const sent = await app.sent();
    expect(sent.map((p) => [p.uid, p.duid, p.sid])).toEqual([
      ['user-42', browser.duid, browser.sid],
      ['user-42', browser.duid, browser.sid],
    ]);
    expect(sessionOf(sent[0]!).userId).not.toBe(browser.duid); // a user key's userId is random: the key is not recoverable
  });

  it('a visitor whose browser session expired (no ses cookie) is joined by duid only: no sid/vid stretches the ended visit', async () => {
    const app = await startApp({}, (s) => s.middleware());
    const browser = fakeBrowser({ live: false });
    await app.request({ cookie: browser.cookie });
    const [payload] = await app.sent();
    expect(payload!.duid).toBe(browser.duid);
    expect(payload!.sid).toBeUndefined();
    expect(payload!.vid).toBeUndefined();
  });

  it('a browser tracking anonymously (no domain user id) is keyed by its session for that visit only, anonymously: nil userId, no duid, no nuid', async () => {
    const app = await startApp({}, (s) => s.middleware());
    const browser = fakeBrowser({ anonymous: true });
    const visitor = await app.request({ cookie: `${browser.cookie}; sp=${fakeBrowser().nuid}`, events: 2 });
    expect(visitor).toMatchObject({ key: `sid:${browser.sid}`, keySource: 'browserSession', browserAnonymous: true });
    const sent = await app.sent();
    for (const payload of sent) {
      expect(payload.duid).toBeUndefined();
      expect(payload.nuid).toBeUndefined();
      expect(payload.sid).toBe(browser.sid); // as the browser's anonymous session tracking sends it
      expect(sessionOf(payload)).toMatchObject({ userId: ANONYMOUS_USER_ID, previousSessionId: null });
    }
    expect(app.session.isAnonymous(`sid:${browser.sid}`)).toBe(true);
  });

  it('with only the collector\'s sp cookie, the network user id keys the request', async () => {
    const app = await startApp({}, (s) => s.middleware());
    const { nuid } = fakeBrowser();
    const visitor = await app.request({ cookie: `sp=${nuid}` });
    expect(visitor).toMatchObject({ key: `nuid:${nuid}`, keySource: 'networkUserId' });
    const [payload] = await app.sent();
    expect(payload!.nuid).toBe(nuid);
    expect(sessionOf(payload!).userId).toBe(nuid);
  });

  it('a request with no user and no cookies: warned once, no uid, the default session', async () => {
    const app = await startApp();
    app.tracker.setUserId('someone-else');
    for (let i = 0; i < 3; i++) {
      const visitor = await app.request({ label: 'nobody' });
      expect(visitor!.key).toBeUndefined();
      expect(visitor!.keySource).toBe('none');
    }
    const sent = await app.sent();
    expect(sent.every((p) => p.uid === undefined)).toBe(true);
    expect(app.logger.warnings.filter((w) => /has no signed-in user \(keyOf\), no browser tracker id cookie/.test(w))).toHaveLength(1);
    expect(app.session.getSessionContext()!.eventIndex).toBe(3);
  });

  it('a hostile id cookie keys nothing and breaks nothing: the request goes on, its cookie listed as rejected', async () => {
    const app = await startApp({}, (s) => s.middleware());
    const visitor = await app.request({ cookie: '_sp_id.1fff=<script>.1.2.3.4.5; sp=../../etc/passwd' });
    expect(visitor).toMatchObject({ keySource: 'none', browser: { idCookie: null, rejected: ['_sp_id.1fff', 'sp'] } });
    const [payload] = await app.sent();
    expect(payload!.duid).toBeUndefined();
  });

  it('240 concurrent requests of 24 visitors, awaiting between events: each visitor one session, contiguous indexes, its own ids', async () => {
    const app = await startApp({}, (s) => s.middleware());
    const browsers = Array.from({ length: 24 }, () => fakeBrowser());
    const requests: Array<Promise<unknown>> = [];
    for (let r = 0; r < 10; r++) browsers.forEach((b, i) => requests.push(app.request({ cookie: b.cookie, label: String(i), events: 2 })));
    await Promise.all(requests);
    const sent = await app.sent();
    expect(sent).toHaveLength(480);
    browsers.forEach((browser, i) => {
      const events = byLabel(sent, String(i));
      expect(events.every((p) => p.duid === browser.duid && p.sid === browser.sid)).toBe(true);
      const entities = events.map(sessionOf);
      expect(new Set(entities.map((e) => e.sessionId)).size).toBe(1);
      expect(entities.map((e) => e.eventIndex).sort((x, y) => x! - y!)).toEqual(entities.map((_, n) => n + 1));
    });
  });
});

describe('joined sessions: options and how they combine', () => {
  it('joinBrowserSession: false keys by the browser but sends none of its ids', async () => {
    const app = await startApp({}, (s) => s.middleware(null, { joinBrowserSession: false }));
    const browser = fakeBrowser();
    expect(await app.request({ cookie: browser.cookie })).toMatchObject({ key: `duid:${browser.duid}` });
    const [payload] = await app.sent();
    expect([payload!.duid, payload!.sid, payload!.vid, payload!.nuid]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('setAnonymous(true, key) masks the browser\'s user ids (duid, nuid) too; the session ids stay, as in the browser\'s anonymous session tracking', async () => {
    const app = await startApp({}, (s) => s.middleware());
    const browser = fakeBrowser();
    app.session.setAnonymous(true, `duid:${browser.duid}`);
    await app.request({ cookie: browser.cookie });
    const [payload] = await app.sent();
    expect([payload!.duid, payload!.nuid]).toEqual([undefined, undefined]);
    expect([payload!.sid, payload!.vid]).toEqual([browser.sid, String(browser.visit)]);
    expect(sessionOf(payload!).userId).toBe(ANONYMOUS_USER_ID);
  });

  it('anonymous: true for the whole server masks them for every visitor', async () => {
    const app = await startApp({ anonymous: true }, (s) => s.middleware());
    await app.request({ cookie: fakeBrowser().cookie });
    const [payload] = await app.sent();
    expect([payload!.duid, payload!.nuid]).toEqual([undefined, undefined]);
  });

  it('with atomicSessionFields, a live browser session\'s sid/vid win (the data model\'s web session); without one the server\'s session fills them', async () => {
    const app = await startApp({ atomicSessionFields: true }, (s) => s.middleware());
    const live = fakeBrowser();
    const expired = fakeBrowser({ live: false });
    await app.request({ cookie: live.cookie, label: 'live' });
    await app.request({ cookie: expired.cookie, label: 'expired' });
    const sent = await app.sent();
    expect(byLabel(sent, 'live')[0]!.sid).toBe(live.sid);
    const [fromExpired] = byLabel(sent, 'expired');
    expect(fromExpired!.sid).toBe(sessionOf(fromExpired!).sessionId);
  });

  it('node-tracker\'s tracker-global setDomainUserId/setSessionId win (written after every plugin): the plugin warns once', async () => {
    const app = await startApp({}, (s) => s.middleware());
    app.tracker.setDomainUserId('global-duid');
    app.tracker.setSessionId('11111111-2222-4333-8444-555555555555');
    const browser = fakeBrowser();
    await app.request({ cookie: browser.cookie, events: 2 });
    const sent = await app.sent();
    expect(sent.map((p) => p.duid)).toEqual(['global-duid', 'global-duid']);
    const warnings = app.logger.warnings.filter((w) => /setDomainUserId\(\) replaced the `duid`/.test(w));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/unset them with '', which node-tracker does not send/);
    // Unset, the request's own ids are sent again.
    app.tracker.setDomainUserId('');
    app.tracker.setSessionId('');
    await app.request({ cookie: browser.cookie, label: 'after' });
    expect(byLabel(await app.sent(), 'after')[0]).toMatchObject({ duid: browser.duid, sid: browser.sid });
  });

  it('idCookiePrefix picks one tracker\'s cookie when a page runs several', async () => {
    const app = await startApp({}, (s) => s.middleware(null, { idCookiePrefix: '_acme_' }));
    const [main, acme] = [fakeBrowser(), fakeBrowser()];
    const cookie = `${main.cookie}; ${acme.cookie.replace(/_sp_/g, '_acme_').replace(/; sp=.*$/, '')}`;
    const visitor = await app.request({ cookie });
    expect(visitor!.key).toBe(`duid:${acme.duid}`);
  });

  it('session.visitor() is null outside a request', async () => {
    const app = await startApp();
    expect(app.session.visitor()).toBeNull();
    expect(app.session.run('k', () => app.session.visitor())).toBeNull();
  });

  it('refuses bad adapter options with an error naming the option', async () => {
    const { session } = await startApp();
    expect(() => session.middleware(null, { reserve: 0 })).toThrow(/snowplow-client-session: middleware option `reserve` must be a whole number >= 1, got 0/);
    expect(() => session.middleware(null, { joinBrowserSesion: true } as never)).toThrow(/middleware option `joinBrowserSesion` is not an option; did you mean `joinBrowserSession`\? \(options: keyOf, reserve, joinBrowserSession/);
    expect(() => session.fastify({ networkUserIdCookie: '' })).toThrow(/fastify option `networkUserIdCookie` must be a cookie name or false/);
    expect(() => session.koa({ idCookiePrefix: 5 as never })).toThrow(/koa option `idCookiePrefix` must be a string/);
    expect(() => session.middleware('user' as never)).toThrow(/middleware\(keyOf\) expects a function of the request \(or nothing\), got "user"/);
    await expect(session.withSession(new Request('http://x/'), () => 1, { keyOf: 1 as never })).rejects.toThrow(/withSession option `keyOf` must be a function/);
  });
});
