import type { IncomingHttpHeaders } from 'node:http';
import type { Scope } from '../session/request-scope.js';
import { cookieHeaderOf, type RequestSessions, type ResolvedRequestOptions } from './request-sessions.js';
import type { Visitor } from './visitor.js';

/** Whatever an app has decorated its requests with (`req.user`, …), reachable from `keyOf`. */
type Decorated = { [property: string]: any };

/** An Express/Connect request (or Node's `IncomingMessage`). */
export type NodeRequestLike = { headers?: IncomingHttpHeaders } & Decorated;
export type ConnectMiddleware<Req> = (req: Req, res: unknown, next: () => void) => void;

/** A Fastify request, as the plugin's hooks and `keyOf` see it. */
export type FastifyRequestLike = { headers: IncomingHttpHeaders } & Decorated;
type HookDone = (error?: Error) => void;
/** The part of a Fastify instance the plugin uses. */
export interface FastifyLike {
  addHook(name: any, hook: any): unknown;
}
/** A Fastify plugin: `app.register(session.fastify())`. */
export type FastifySessionPlugin = (instance: FastifyLike, options: unknown, done: HookDone) => void;

/** A Koa context, as the middleware and `keyOf` see it (`ctx.state.user`, …). */
export type KoaContextLike = { req: { headers: IncomingHttpHeaders } } & Decorated;
export type KoaSessionMiddleware<Ctx> = (ctx: Ctx, next: () => Promise<unknown>) => Promise<unknown>;

/** A request with headers: the Fetch API's `Request` (Next.js route handlers, Hono, Remix…) or Node's `IncomingMessage`. */
export type RequestWithHeaders = { headers: Headers | IncomingHttpHeaders };

/** Calls `then` with the scope now or, with a shared store, once the key is loaded; what `then` throws is logged. */
function whenReady(sessions: RequestSessions, scope: Scope | Promise<Scope>, then: (scope: Scope) => void): void {
  const onError = (error: unknown) => sessions.logError('the request handler threw after the session middleware', error);
  if (scope instanceof Promise) {
    scope.then(then).catch(onError);
    return;
  }
  try {
    then(scope);
  } catch (error) {
    onError(error);
  }
}

/** Express/Connect middleware: the rest of the request runs in the visitor's scope. */
export function connectMiddleware<Req extends NodeRequestLike>(sessions: RequestSessions, options: ResolvedRequestOptions<Req>): ConnectMiddleware<Req> {
  return (req, _res, next) => whenReady(sessions, sessions.prepare(req, cookieHeaderOf(req?.headers), options), (scope) => sessions.run(scope, next));
}

/**
 * A Fastify plugin (`app.register(session.fastify())`, after the app's authentication hooks, before the
 * routes): the scope is entered at `onRequest`. Fastify keeps the async context through body parsing (its
 * content-type parser runs in an `AsyncResource`) and to the response hooks, so later hooks and the handler
 * track for the visitor. Registered without encapsulation (as `fastify-plugin` does), so it applies to every route.
 */
export function fastifyPlugin<Req extends FastifyRequestLike>(sessions: RequestSessions, options: ResolvedRequestOptions<Req>): FastifySessionPlugin {
  const plugin: FastifySessionPlugin = (instance, _options, done) => {
    instance.addHook('onRequest', (request: Req, _reply: unknown, next: HookDone) =>
      whenReady(sessions, sessions.prepare(request, cookieHeaderOf(request.headers), options), (scope) => sessions.run(scope, next)),
    );
    done();
  };
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'snowplow-client-session' });
  return plugin;
}

/** Koa middleware (`app.use(session.koa())`, after the app's authentication): the downstream middleware runs in the visitor's scope. */
export function koaMiddleware<Ctx extends KoaContextLike>(sessions: RequestSessions, options: ResolvedRequestOptions<Ctx>): KoaSessionMiddleware<Ctx> {
  return async (ctx, next) => {
    const scope = await sessions.prepare(ctx, cookieHeaderOf(ctx.req.headers), options);
    return sessions.run(scope, next);
  };
}

/**
 * Runs `fn` in the request's scope and returns what it returns: for Next.js route handlers (a Fetch API
 * `Request`) and any framework that has no middleware of its own.
 */
export async function withRequestSession<Req extends RequestWithHeaders, T>(
  sessions: RequestSessions,
  request: Req,
  fn: (visitor: Visitor) => T,
  options: ResolvedRequestOptions<Req>,
): Promise<Awaited<T>> {
  const scope = await sessions.prepare(request, cookieHeaderOf(request?.headers), options);
  return sessions.run(scope, async (): Promise<Awaited<T>> => await fn(scope.visitor!));
}
