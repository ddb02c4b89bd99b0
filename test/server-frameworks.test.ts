// The request adapters in the real frameworks: a Fastify plugin, a Koa middleware, and withSession in a
// route handler that receives a Fetch API Request (as Next.js App Router handlers do). Each app tracks with
// the real node-tracker from its hooks and handlers, across awaits and body parsing, for concurrent visitors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { buildStructEvent } from '@snowplow/node-tracker';
import Fastify from 'fastify';
import Koa from 'koa';
import { createClientSession, MemorySessionStore, type ClientSession, type Visitor } from '../plugin/index.js';
import { recordingTracker, recordingLogger, sessionOf, type Payload } from './helpers/capture.js';
import { fakeBrowser, listen, pause, type FakeBrowser } from './helpers/visitors.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: { id: string } | null;
  }
}

const REQUESTS_PER_VISITOR = 5;
let open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of open.reverse()) await close();
  open = [];
});

async function sessionAndTracker(): Promise<{ session: ClientSession; payloads: Payload[]; track: (label: string, property?: string) => void }> {
  const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0, logger: recordingLogger() });
  const { tracker, payloads } = recordingTracker(session);
  open.push(() => session.close());
  return { session, payloads, track: (label, property) => tracker.track(buildStructEvent({ category: 'shop', action: 'step', label, property })) };
}

/** A JSON body sent in two chunks a moment apart: the server reads it from the socket after its handler started. */
function slowJson(value: unknown): { body: ReadableStream<Uint8Array>; duplex: 'half' } {
  const text = JSON.stringify(value);
  const half = Math.floor(text.length / 2);
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode(text.slice(0, half)));
      await new Promise((resolve) => setTimeout(resolve, 5));
      controller.enqueue(new TextEncoder().encode(text.slice(half)));
      controller.close();
    },
  });
  return { body, duplex: 'half' };
}

/** POSTs `{ item }` as JSON (in two chunks) for each visitor, all at once; `x-user` signs the request in. */
function postAll(url: string, browsers: FakeBrowser[], user?: (b: FakeBrowser) => string | undefined): Promise<Visitor[]> {
  const requests = browsers.flatMap((browser, i) =>
    Array.from({ length: REQUESTS_PER_VISITOR }, () =>
      fetch(url, {
        method: 'POST',
        headers: { cookie: browser.cookie, 'content-type': 'application/json', ...(user?.(browser) ? { 'x-user': user(browser)! } : {}) },
        ...slowJson({ item: `item-${i}` }),
      } as RequestInit).then(async (response) => {
        expect(response.status).toBe(200);
        return ((await response.json()) as { visitor: Visitor }).visitor;
      }),
    ),
  );
  return Promise.all(requests);
}

/**
 * Every event tracked for visitor i (property `item-i`, set by the handler from the parsed body) carries
 * that visitor's browser ids and one server session, with contiguous event indexes.
 */
function expectPerVisitor(payloads: Payload[], browsers: FakeBrowser[], eventsPerRequest: number): void {
  expect(payloads).toHaveLength(browsers.length * REQUESTS_PER_VISITOR * eventsPerRequest);
  browsers.forEach((browser, i) => {
    const events = payloads.filter((p) => p.duid === browser.duid);
    expect(events).toHaveLength(REQUESTS_PER_VISITOR * eventsPerRequest);
    expect(events.every((p) => p.sid === browser.sid && p.vid === String(browser.visit))).toBe(true);
    expect(events.filter((p) => p.se_pr !== undefined).every((p) => p.se_pr === `item-${i}`)).toBe(true);
    const entities = events.map(sessionOf);
    expect(new Set(entities.map((e) => e.sessionId)).size).toBe(1);
    expect(entities.map((e) => e.eventIndex).sort((a, b) => a! - b!)).toEqual(entities.map((_, n) => n + 1));
  });
}

describe('session.fastify(): a Fastify plugin', () => {
  it('hooks and handlers, before and after body parsing and after the response, track for the request\'s visitor', async () => {
    const { session, payloads, track } = await sessionAndTracker();
    const browsers = [fakeBrowser(), fakeBrowser(), fakeBrowser()];
    const expected = browsers.length * REQUESTS_PER_VISITOR;
    let responded = 0;
    let allResponded!: () => void;
    const responses = new Promise<void>((resolve) => (allResponded = resolve));
    const app = Fastify();
    app.decorateRequest('user', null);
    app.addHook('onRequest', async (request) => {
      const user = request.headers['x-user'];
      if (typeof user === 'string') request.user = { id: user }; // the app's authentication, before the plugin
    });
    await app.register(session.fastify({ keyOf: (request) => request.user?.id }));
    app.addHook('preHandler', async () => track('preHandler'));
    app.addHook('onResponse', (_request, _reply, done) => {
      track('onResponse'); // after the response was written
      done();
      if (++responded === expected) allResponded();
    });
    app.post<{ Body: { item: string } }>('/checkout', async (request) => {
      await pause();
      track('handler', request.body.item);
      await pause();
      track('handler');
      return { visitor: session.visitor() };
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    open.push(() => app.close());
    const visitors = await postAll(`${address}/checkout`, browsers);
    expect(visitors.map((v) => v.keySource)).toEqual(Array(expected).fill('domainUserId'));
    await responses;
    expectPerVisitor(payloads, browsers, 4);
  });

  it('keys a signed-in user by keyOf(request), after the app\'s authentication hook', async () => {
    const { session, payloads, track } = await sessionAndTracker();
    const app = Fastify();
    app.decorateRequest('user', null);
    app.addHook('onRequest', async (request) => {
      request.user = { id: String(request.headers['x-user']) };
    });
    await app.register(session.fastify({ keyOf: (request) => request.user?.id }));
    app.get('/', async () => {
      track('handler');
      return { visitor: session.visitor() };
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    open.push(() => app.close());
    const browser = fakeBrowser();
    const response = await fetch(address, { headers: { cookie: browser.cookie, 'x-user': 'user-7' } });
    expect(((await response.json()) as { visitor: Visitor }).visitor).toMatchObject({ key: 'user-7', keySource: 'user' });
    expect(payloads[0]).toMatchObject({ uid: 'user-7', duid: browser.duid, sid: browser.sid });
  });
});

describe('session.koa(): a Koa middleware', () => {
  it('downstream middleware and handlers, across awaits, track for the request\'s visitor; keyOf reads ctx.state', async () => {
    const { session, payloads, track } = await sessionAndTracker();
    const app = new Koa();
    app.use(async (ctx, next) => {
      const user = ctx.get('x-user');
      if (user !== '') ctx.state.user = { id: user }; // the app's authentication, before the session middleware
      await next();
    });
    app.use(session.koa({ keyOf: (ctx) => ctx.state.user?.id }));
    app.use(async (_ctx, next) => {
      track('before');
      await next();
      track('after');
    });
    app.use(async (ctx) => {
      const body = await new Promise<string>((resolve) => {
        let text = '';
        ctx.req.on('data', (chunk: Buffer) => (text += chunk));
        ctx.req.on('end', () => resolve(text));
      });
      await pause();
      track('handler', (JSON.parse(body) as { item: string }).item);
      ctx.body = { visitor: session.visitor() };
    });
    const server = await listen(app.callback());
    open.push(() => server.close());
    const browsers = [fakeBrowser(), fakeBrowser(), fakeBrowser()];
    const visitors = await postAll(server.url, browsers, (b) => (b === browsers[2] ? 'user-3' : undefined));
    expect(new Set(visitors.map((v) => v.keySource))).toEqual(new Set(['domainUserId', 'user']));
    expectPerVisitor(payloads, browsers, 3);
    expect(payloads.filter((p) => p.duid === browsers[2]!.duid).every((p) => p.uid === 'user-3')).toBe(true);
    expect(payloads.filter((p) => p.duid !== browsers[2]!.duid).every((p) => p.uid === undefined)).toBe(true);
  });
});

describe('session.withSession(request, fn): route handlers that receive a Fetch API Request (Next.js App Router)', () => {
  /** How Next.js serves a route handler: the IncomingMessage becomes a Fetch API Request; the Response is written back. */
  function routeHandlerServer(handler: (request: Request) => Promise<Response>) {
    return listen(async (req: IncomingMessage, res: ServerResponse) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}) });
      const response = await handler(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  }

  it('a POST handler reads its body and awaits inside withSession: every event is the visitor\'s; withSession returns the handler\'s Response', async () => {
    const { session, payloads, track } = await sessionAndTracker();
    // app/api/checkout/route.ts
    async function POST(request: Request): Promise<Response> {
      const user = request.headers.get('x-user'); // stands for the app's `await auth()`
      return session.withSession(
        request,
        async (visitor) => {
          const { item } = (await request.json()) as { item: string };
          await pause();
          track('handler', item);
          await pause();
          track('handler');
          return Response.json({ visitor });
        },
        { keyOf: () => user },
      );
    }
    const server = await routeHandlerServer(POST);
    open.push(() => server.close());
    const browsers = [fakeBrowser(), fakeBrowser(), fakeBrowser({ anonymous: true })];
    const visitors = await postAll(server.url, browsers.slice(0, 2));
    expect(visitors.every((v) => v.keySource === 'domainUserId')).toBe(true);
    expectPerVisitor(payloads, browsers.slice(0, 2), 2);
    // An anonymously tracking browser, through the same handler: keyed by its session, no duid.
    const response = await fetch(server.url, { method: 'POST', headers: { cookie: browsers[2]!.cookie }, body: JSON.stringify({ item: 'x' }) });
    expect(((await response.json()) as { visitor: Visitor }).visitor).toMatchObject({ keySource: 'browserSession', key: `sid:${browsers[2]!.sid}` });
  });

  it('takes Node\'s IncomingMessage too, and returns what fn returns', async () => {
    const { session } = await sessionAndTracker();
    const browser = fakeBrowser();
    const server = await listen(async (req, res) => {
      const key = await session.withSession(req, (visitor) => visitor.key);
      res.end(key);
    });
    open.push(() => server.close());
    expect(await (await fetch(server.url, { headers: { cookie: browser.cookie } })).text()).toBe(`duid:${browser.duid}`);
  });
});
