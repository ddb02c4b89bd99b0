import { AsyncLocalStorage } from 'node:async_hooks';

/** The key (and the `uid` to send) of the request whose code is running. */
export interface Scope {
  key: string;
  /** Set as the event's `uid`; `null` sends none (the tracker-global `setUserId` value is removed). */
  uid: string | null;
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
