import type { SessionStore } from '../stores/session-store.js';
import type { SessionState } from './state.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 30_000;

/**
 * Carries session changes to the store behind the tracker's back: `track()` is synchronous, the store may
 * not be. Changes wait in memory (latest state per key) and are written after the current event-loop turn,
 * one drain at a time, so a burst of events costs one `setSession` per key. Failed writes stay pending and
 * are retried with backoff; the failure is reported once per streak of failures.
 */
export class SessionWriter {
  readonly #store: SessionStore;
  readonly #onFailure: (error: unknown) => void;
  readonly #onRecovery: () => void;
  /** The latest state per key; `null` means the key's record is to be deleted. */
  #dirty = new Map<string | undefined, SessionState | null>();
  #draining: Promise<void> | undefined;
  #scheduled = false;
  #failing = false;
  #retryDelay = FIRST_RETRY_MS;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(store: SessionStore, onFailure: (error: unknown) => void, onRecovery: () => void) {
    this.#store = store;
    this.#onFailure = onFailure;
    this.#onRecovery = onRecovery;
  }

  save(key: string | undefined, state: SessionState): void {
    this.#mark(key, state);
  }

  remove(key: string | undefined): void {
    this.#mark(key, null);
  }

  #mark(key: string | undefined, state: SessionState | null): void {
    this.#dirty.set(key, state);
    if (this.#scheduled || this.#failing) return; // a failing store is retried on its own schedule
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#drain().catch(() => undefined); // reported through onFailure
    });
  }

  /** Writes everything pending; rejects with the store's error when a write fails. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.#draining !== undefined) await this.#draining;
      if (this.#dirty.size === 0) return;
      await this.#drain();
    }
  }

  /** Stops retrying in the background (the pending state stays for a last `flush()`). */
  stop(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #drain(): Promise<void> {
    this.#draining ??= this.#writeAll().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #writeAll(): Promise<void> {
    while (this.#dirty.size > 0) {
      const batch = this.#dirty;
      this.#dirty = new Map();
      try {
        await Promise.all([...batch].map(([key, state]) => (state === null ? this.#store.deleteSession(key) : this.#store.setSession(state, key))));
      } catch (error) {
        // Keep what was not superseded meanwhile, then retry later.
        for (const [key, state] of batch) if (!this.#dirty.has(key)) this.#dirty.set(key, state);
        if (!this.#failing) this.#onFailure(error);
        this.#failing = true;
        this.#scheduleRetry();
        throw error;
      }
      if (this.#failing) {
        this.#failing = false;
        this.#retryDelay = FIRST_RETRY_MS;
        this.#onRecovery();
      }
    }
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#drain().catch(() => undefined);
    }, this.#retryDelay);
    this.#retryTimer.unref(); // a failing store never keeps the process alive
    this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_MS);
  }
}
