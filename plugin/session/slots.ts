import type { ClientSessionEntity } from './entity.js';
import type { SessionEndReason, SessionState } from './state.js';
import type { StoredSession } from './stored-session.js';

/** One session's slot: the default session has key `undefined`, keyed sessions their key. */
export interface Slot {
  readonly key: string | undefined;
  session: SessionState | null;
  /** Used when the slot opens its first session. */
  userId: string;
  background: boolean;
  /** The next event (or, with a shared store, the next load) opens a new session, for this reason. */
  forceNewSession: SessionEndReason | null;
  /** With a shared store: the next lease opens session 1 of a new identity (`reset()`). */
  fresh: boolean;
  /** Anonymous tracking for this key: the entity shows no identity. */
  anonymous: boolean;
  /** Transitions to the foreground / background in the current session (the mobile trackers' indexes). */
  foregroundIndex: number;
  backgroundIndex: number;
  /** The entity attached to the slot's last event (`getSessionContext`). */
  lastEntity: ClientSessionEntity | null;
}

/** The slots of one `ClientSession`, by key; a slot is made the first time its key is used. */
export class SessionSlots {
  readonly #slots = new Map<string | undefined, Slot>();

  constructor(
    private readonly newUserId: () => string,
    private readonly anonymous = false,
  ) {}

  /** Adds the slot of a session read from the store. */
  add(key: string | undefined, stored: StoredSession): Slot {
    const slot: Slot = {
      key,
      session: stored.state,
      userId: stored.userId ?? this.newUserId(),
      background: false,
      forceNewSession: null,
      fresh: false,
      anonymous: this.anonymous,
      foregroundIndex: 0,
      backgroundIndex: 0,
      lastEntity: null,
    };
    this.#slots.set(key, slot);
    return slot;
  }

  get(key: string | undefined): Slot | undefined {
    return this.#slots.get(key);
  }

  /** The key's slot; a new one gets `userId` if given (else a random one). */
  ensure(key: string | undefined, userId: string | null = null): Slot {
    return this.#slots.get(key) ?? this.add(key, { state: null, userId, problem: null });
  }

  delete(key: string | undefined): void {
    this.#slots.delete(key);
  }

  /** A snapshot, so a caller may delete while it iterates. */
  all(): Slot[] {
    return [...this.#slots.values()];
  }

  hasLiveSession(): boolean {
    for (const slot of this.#slots.values()) if (slot.session !== null && !slot.session.ended) return true;
    return false;
  }
}
