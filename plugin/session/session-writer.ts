import type { SessionStore } from '../stores/session-store.js';
import type { SessionState } from './state.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 30_000;

/**
 * Carries session changes to the store behind the tracker's back: `track()` is synchronous, the store may
 * not be. Changes wait in memory (latest state per key) and are written after the current event-loop turn,
 * and at most once per `intervalMs` (a server's steady traffic must not rewrite the store per event),
 * one drain at a time. Failed writes stay pending and are retried with backoff; the failure is reported
 * once per streak of failures. `flush()` writes at once.
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
  #paceTimer: NodeJS.Timeout | undefined;
  #lastDrainAt = -Infinity;
  #urgent = false;

  constructor(
    store: SessionStore,
    onFailure: (error: unknown) => void,
    onRecovery: () => void,
    private readonly intervalMs = 0,
  ) {
    this.#store = store;
    this.#onFailure = onFailure;
    this.#onRecovery = onRecovery;
  }

  save(key: string | undefined, state: SessionState): void {
    this.#mark(key, state);
  }

  /** As `save`, but written after this event-loop turn whatever the pacing (what other processes need soon). */
  saveNow(key: string | undefined, state: SessionState): void {
    this.#dirty.set(key, state);
    this.#urgent = true; // also when a drain is under way: the next one then follows at once
    if (this.#paceTimer !== undefined) {
      clearTimeout(this.#paceTimer);
      this.#paceTimer = undefined;
      this.#scheduled = false;
    }
    this.#schedule(true);
  }

  remove(key: string | undefined): void {
    this.#mark(key, null);
  }

  #mark(key: string | undefined, state: SessionState | null): void {
    this.#dirty.set(key, state);
    this.#schedule();
  }

  /** The next drain: after this event-loop turn, and (unless urgent) no sooner than `intervalMs` after the last one. */
  #schedule(urgent = false): void {
    if (this.#scheduled || this.#failing) return; // a failing store is retried on its own schedule
    this.#scheduled = true;
    const run = () => {
      this.#scheduled = false;
      this.#paceTimer = undefined;
      this.#drain().catch(() => undefined); // reported through onFailure
    };
    // Not unref'd: a process that tracked and then ends still gets its last write.
    const wait = urgent ? 0 : this.#lastDrainAt + this.intervalMs - performance.now();
    if (wait > 0) this.#paceTimer = setTimeout(run, wait);
    else setImmediate(run);
  }

  /** Writes everything pending now; rejects with the store's error when a write fails. */
  async flush(): Promise<void> {
    if (this.#paceTimer !== undefined) {
      clearTimeout(this.#paceTimer);
      this.#paceTimer = undefined;
      this.#scheduled = false;
    }
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
    clearTimeout(this.#paceTimer);
    this.#paceTimer = undefined;
    this.#scheduled = false;
  }

  #drain(): Promise<void> {
    this.#draining ??= this.#writeAll().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  /** One batch: everything dirty now. Changes made meanwhile wait for the next paced drain (or `flush()`). */
  async #writeAll(): Promise<void> {
    if (this.#dirty.size === 0) return;
    this.#lastDrainAt = performance.now();
    const batch = this.#dirty;
    this.#dirty = new Map();
    const urgent = this.#urgent;
    this.#urgent = false;
    try {
      await this.#write([...batch]);
    } catch (error) {
      // Keep what was not superseded meanwhile, then retry later.
      for (const [key, state] of batch) if (!this.#dirty.has(key)) this.#dirty.set(key, state);
      this.#urgent ||= urgent;
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
    if (this.#dirty.size > 0) this.#schedule(this.#urgent);
  }

  /** Every call at once: a file store coalesces them into one write; a networked store bounds its own commands in flight. */
  async #write(entries: Array<[string | undefined, SessionState | null]>): Promise<void> {
    await Promise.all(entries.map(([key, state]) => (state === null ? this.#store.deleteSession(key) : this.#store.setSession(state, key))));
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
