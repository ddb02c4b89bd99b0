import type { LeaseRequest, SessionStore } from '../stores/session-store.js';
import { withTimeout } from '../util/with-timeout.js';
import type { SessionLogger } from './options.js';
import { MAX_INDEX, type SessionEndReason, type SessionState } from './state.js';
import { readStoredSession } from './stored-session.js';

/** A lease applied to the key's slot: the session as the store decided it. */
export interface LeaseOutcome {
  session: SessionState;
  opened: boolean;
  ended: { session: SessionState; reason: SessionEndReason } | null;
  /** The key's anonymous tracking as the store keeps it, if it does. */
  anonymous: boolean | undefined;
}

/** What `load()` asks for; the rest of the `LeaseRequest` is filled in here. */
export type LoadRequest = Omit<LeaseRequest, 'now' | 'maxIndex'>;

/** Event indexes this process holds for one key's session, used in order. */
interface Pool {
  sessionId: string;
  /** The store's time of this process's last lease or top-up: the activity the store already knows. */
  storeActivityAt: number;
  ranges: Array<{ next: number; to: number }>;
  /** The size of the next top-up. */
  block: number;
  extending: boolean;
  warned: boolean;
}

/** Ranges kept per key: past this, the oldest is dropped (unused indexes only leave gaps), so a pool never grows without bound. */
const MAX_RANGES = 64;
const MAX_TOP_UP = 1024;

/**
 * Leases from a shared store (`SessionStore.lease`): one round trip per `load()`, bounded by `timeout`.
 * Concurrent requests of one key share one pool of indexes (every load adds its block); a pool running
 * low is topped up in the background. While the store fails, one probe at a time goes out and every other load falls
 * back at once (one warning per outage), so nothing piles up. Times sent to the store are the injected
 * clock's, or none (the store's own clock decides, so servers' clock skew does not matter).
 */
export class SharedLeases {
  readonly #pools = new Map<string | undefined, Pool>();
  /** The store's clock minus this process's clock, learned from each lease (0 with an injected clock). */
  #offset = 0;
  #outage = false;
  #probing = false;

  constructor(
    private readonly store: SessionStore & Required<Pick<SessionStore, 'lease'>>,
    private readonly options: {
      timeout: number;
      logger: SessionLogger;
      /** The plugin's clock; sent to the store only when it was injected (`now` option). */
      clock: () => number;
      injectedClock: boolean;
      apply: (key: string | undefined, outcome: LeaseOutcome) => void;
    },
  ) {}

  /**
   * Leases `key`'s session and adds its indexes to the key's pool (shared by the process's concurrent
   * requests of that key); resolves when it is applied or has failed.
   */
  load(key: string | undefined, request: LoadRequest): Promise<void> {
    if (this.#outage && this.#probing) return Promise.resolve(); // the store is down and a probe is out: fall back now
    return this.#lease(key, request);
  }

  /** A time of this process's clock in the store's time (what leased sessions are measured in). */
  storeTime(localNow: number): number {
    return localNow + this.#offset;
  }

  has(key: string | undefined): boolean {
    return this.#pools.has(key);
  }

  /** The last activity of `key`'s leased session that the store already knows of (its time), if leased. */
  storeActivityAt(key: string | undefined): number | undefined {
    return this.#pools.get(key)?.storeActivityAt;
  }

  /** Forgets the key's indexes: its session is no longer the leased one. */
  drop(key: string | undefined): void {
    this.#pools.delete(key);
  }

  /**
   * The next leased index of `key`'s session, or `null` when none is left (better no index than one that
   * another process may use). Tops the pool up in the background when half of its last block is used.
   */
  take(key: string | undefined): number | null {
    const pool = this.#pools.get(key);
    if (pool === undefined) return null;
    while (pool.ranges.length > 0 && pool.ranges[0]!.next > pool.ranges[0]!.to) pool.ranges.shift();
    const range = pool.ranges[0];
    const index = range === undefined ? null : range.next++;
    if (remaining(pool) * 2 <= pool.block) this.#topUp(key, pool);
    if (index === null && !pool.warned) {
      pool.warned = true;
      this.options.logger.warn(
        'snowplow-client-session: a request tracked more events than its key had reserved indexes and the top-up had not arrived; those events carry eventIndex null (pass a larger reserve to load())',
      );
    }
    return index;
  }

  async #lease(key: string | undefined, request: LoadRequest): Promise<void> {
    const { clock, injectedClock, timeout, logger } = this.options;
    const probe = this.#outage;
    if (probe) this.#probing = true;
    const before = clock();
    let lease;
    try {
      const restartedAt = request.restartedAt === undefined || request.restartedAt === null ? null : this.storeTime(request.restartedAt);
      const leasing = this.store.lease(key, { ...request, restartedAt, now: injectedClock ? before : null, maxIndex: MAX_INDEX });
      lease = await withTimeout(leasing, timeout, `snowplow-client-session: the shared session store did not answer load() within ${timeout} ms (option loadTimeout)`);
    } catch (error) {
      if (!this.#outage) logger.warn('snowplow-client-session: the shared session store is unreachable; sessions go on locally until it is back', error);
      this.#outage = true;
      return;
    } finally {
      if (probe) this.#probing = false;
    }
    if (this.#outage) logger.warn('snowplow-client-session: the shared session store is reachable again');
    this.#outage = false;
    if (!injectedClock) this.#offset = Math.round(lease.now - (before + clock()) / 2);

    const leased = readStoredSession(lease.session);
    if (leased.state === null || leased.problem !== null) {
      logger.warn(`snowplow-client-session: the shared store returned an unusable session for a key (${leased.problem ?? 'empty'}); going on locally`);
      return;
    }
    const ended = lease.ended === null ? null : readStoredSession(lease.ended.session).state;
    this.#addRange(key, leased.state.sessionId, lease.from, lease.to, request.block, lease.now);
    this.options.apply(key, {
      session: { ...leased.state, eventIndex: lease.from - 1 },
      opened: lease.opened,
      ended: ended === null || lease.ended === null ? null : { session: ended, reason: lease.ended.reason },
      anonymous: lease.anonymous,
    });
  }

  #addRange(key: string | undefined, sessionId: string, from: number, to: number, block: number, storeNow: number): void {
    let pool = this.#pools.get(key);
    if (pool === undefined || pool.sessionId !== sessionId) {
      pool = { sessionId, storeActivityAt: storeNow, ranges: [], block, extending: false, warned: false };
      this.#pools.set(key, pool);
    }
    pool.storeActivityAt = Math.max(pool.storeActivityAt, storeNow);
    if (to >= from) pool.ranges.push({ next: from, to });
    if (pool.ranges.length > MAX_RANGES) pool.ranges.shift();
  }

  #topUp(key: string | undefined, pool: Pool): void {
    const { extendLease } = this.store;
    if (pool.extending || this.#outage || extendLease === undefined) return;
    pool.extending = true;
    pool.block = Math.min(pool.block * 2, MAX_TOP_UP);
    const { clock, injectedClock, timeout } = this.options;
    const request = { sessionId: pool.sessionId, block: pool.block, maxIndex: MAX_INDEX, now: injectedClock ? clock() : null };
    withTimeout(extendLease.call(this.store, key, request), timeout, 'top-up')
      .then((range) => {
        if (range !== null && range.to >= range.from && this.#pools.get(key) === pool) pool.ranges.push({ next: range.from, to: range.to });
      })
      .catch(() => undefined) // a failed top-up: the pool runs out and the next load() asks again
      .finally(() => (pool.extending = false));
  }
}

function remaining(pool: Pool): number {
  let left = 0;
  for (const range of pool.ranges) left += range.to - range.next + 1;
  return left;
}
