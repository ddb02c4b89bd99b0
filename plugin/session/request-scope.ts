import { AsyncLocalStorage } from 'node:async_hooks';
import type { Visitor } from '../web/visitor.js';
import type { AtomicIds } from './atomic-ids.js';

/** The key (and the `uid` to send) of the request whose code is running. */
export interface Scope {
  /** `undefined`: a request with no key (its events go to `sessionKey`, else the default session). */
  key: string | undefined;
  /** Set as the event's `uid`; `null` sends none (the tracker-global `setUserId` value is removed). */
  uid: string | null;
  /** The visitor's browser ids, set on the request's events (joined sessions); absent: none. */
  browserIds?: AtomicIds | null;
  /** Who the request is for, when a request adapter (middleware, fastify, koa, withSession) made the scope. */
  visitor?: Visitor;
}

/**
 * Which key the events tracked in the current async context belong to: Node's `AsyncLocalStorage`,
 * so it follows every `await` of a request and never sees another request's key. Nested runs: the
 * innermost wins.
 */
export class RequestScope {
  readonly #storage = new AsyncLocalStorage<Scope>();

  run<T>(scope: Scope, fn: () => T): T {
    return this.#storage.run(scope, fn);
  }

  current(): Scope | undefined {
    return this.#storage.getStore();
  }
}
