import { v4 as uuidv4 } from 'uuid';
import { SessionStoreBusyError, type RecordTransaction, type SharedSessionRecord, type StorageMechanism, type SyncSessionStore } from '../stores/session-store.js';
import { logFailure } from '../util/describe-error.js';
import { clientSessionEntity, type ClientSessionEntity } from './entity.js';
import type { SessionLogger } from './options.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import type { SessionSlots, Slot } from './slots.js';
import { endSession, expiryReason, MAX_INDEX, nextSessionState, type SessionEndReason, type SessionEvent, type SessionPolicy, type SessionState } from './state.js';
import { readStoredSession } from './stored-session.js';
import { TurnBatch } from './turn-batch.js';

export interface SyncParts {
  store: SyncSessionStore;
  slots: SessionSlots;
  lifecycle: SessionLifecycle;
  policy: SessionPolicy;
  storageMechanism: StorageMechanism;
  logger: SessionLogger;
  /** Called once per outage with its cause (the app's `onError`). */
  onError: (error: unknown) => void;
  /** Sessions last active before this time (this process's start) end with reason `restart`; `null`: sessions continue across restarts. */
  restartedAt: number | null;
  /** Keyed records idle past this many ms are pruned. */
  retention: number;
  /** Keys whose records this process keeps in memory. */
  cacheSize: number;
}

/** An event's session as decided: its state, its entity, and (always `none` here) how it reaches the store. */
export interface SyncCounted {
  state: SessionState;
  entity: ClientSessionEntity;
  write: 'none';
}

/** Indexes of one session that this process reserved and may use: `next`..`to`. */
interface Block {
  sessionId: string;
  next: number;
  to: number;
  size: number;
  /** When it was reserved (performance.now()): a block used up soon after grows. */
  at: number;
}

/** What this process knows of a key. */
interface Entry {
  /** The store's change count when `record` was read: the record is current while the count is unchanged. */
  seen: number;
  record: SharedSessionRecord | null;
  block: Block | null;
  /** The key's session was opened from memory while the store could not be written: adopted when it can be. */
  local: boolean;
  /** Indexes the key's next reservation takes at least (`load(key, reserve)`); 0: none asked. */
  want: number;
}

/** The outcome of a decision made in a transaction, applied once it is committed. */
interface Plan {
  record: SharedSessionRecord;
  seen: number;
  block: Block;
  /** `block` was reserved by this decision (not a held one). */
  reserved: boolean;
  state: SessionState;
  opened: SessionState | null;
  ended: { session: SessionState; reason: SessionEndReason } | null;
}

/** A block used up within this many ms of its reservation (and no other process reserved since) is followed by one twice its size. */
const BURST_MS = 1000;
/** Keys ended or pruned per transaction by the checker, and transactions per check (one event-loop turn each). */
const CHECK_BATCH = 16;
const CHECK_ROUNDS = 64;
/** The checker's transaction takes no further key after this many ms (the event loop waits meanwhile). */
const CHECK_TURN_MS = 1;
/** Loaded keys whose indexes one transaction reserves (one event-loop turn each). */
const LOAD_BATCH = 32;
const FIRST_RETRY_MS = 100;
/** Tries of the last write at `flush()`/`close()` while the lock is busy (about 0.5 s in all). */
const SETTLE_ATTEMPTS = 10;
const MAX_RETRY_MS = 5000;
const hasIndexes = (block: Block | null) => block !== null && block.next <= block.to;
/** A store object serves one ClientSession: its connection's data_version does not count its own writes. */
const claimed = new WeakSet<SyncSessionStore>();

/**
 * The synchronous store path (`access: 'sync'`): every process of the host shares each key's record in the
 * store, and `beforeTrack` decides from it. A key's record is read when an event needs it and kept in a
 * bounded cache while the store's change count says no other process wrote. A decision that others must
 * see (a new session, an end, more event indexes) is one write transaction that re-reads the record first,
 * so one process opens each session and reports it. Indexes are reserved in blocks that grow during
 * bursts; an event with an index left in its process's block, and activity the store knows within
 * `slack`, costs no write. When the store cannot be written (another process holds the lock past
 * `busyTimeout`, a full disk), events go on from memory: the block's indexes, then the stored session
 * without an index, or a session opened in memory that becomes the key's session when the store is back,
 * if nobody moved it on meanwhile.
 */
export class SyncSessions {
  readonly #entries = new Map<string | undefined, Entry>();
  readonly #loads = new TurnBatch<{ slot: Slot; now: number }>(LOAD_BATCH, (loads) => this.#reserveLoaded(loads));
  /** The store's idea of a session's last activity may lag this process's by this much (ms). */
  readonly #slack: number;
  #outage = false;
  #busy = false;
  #nextTry = 0;
  #retryDelay = FIRST_RETRY_MS;

  constructor(private readonly parts: SyncParts) {
    if (claimed.has(parts.store)) {
      throw new Error('snowplow-client-session: this SqliteSessionStore already serves a ClientSession; give each ClientSession its own store (new SqliteSessionStore({ file }) on the same file)');
    }
    claimed.add(parts.store);
    this.#slack = Math.min(1000, Math.min(parts.policy.foregroundTimeout, parts.policy.backgroundTimeout) / 100);
  }

  /** The session of an event (in `beforeTrack`). */
  count(slot: Slot, event: SessionEvent): SyncCounted {
    const entry = this.#entry(slot.key);
    if (this.#mayTry()) {
      try {
        // Without unused indexes the event needs a transaction, which reads the record itself: no read before it.
        if (hasIndexes(entry.block)) {
          this.#refresh(slot, entry);
          const fast = this.#fromBlock(slot, entry, event, true);
          if (fast !== null) return fast;
        }
        const plan = this.parts.store.transact((tx) => this.#decide(slot, entry, event, tx), !this.#outage);
        this.#recovered();
        return this.#apply(slot, entry, plan);
      } catch (error) {
        this.#failed(error);
        this.#refreshIfReadable(slot, entry); // another process's write lock does not stop a read
      }
    }
    return this.#countFromMemory(slot, entry, event);
  }

  /**
   * `load(key, reserve)`: a request's events take `reserve` indexes (up to the store's `indexBlock`) reserved
   * together. The loads of one event-loop turn share one transaction at the next turn, which reserves them
   * for each key whose session goes on at `now` and writes its activity, so those events need no write;
   * a session to open (or a failed transaction) is left to the first event, whose reservation takes them.
   */
  load(slot: Slot, reserve: number, now: number): Promise<void> {
    this.#entry(slot.key).want = Math.min(reserve, this.parts.store.indexBlock);
    return this.#loads.add({ slot, now });
  }

  startNewSession(slot: Slot): void {
    slot.forceNewSession = 'manual';
    const written = this.#write(slot, (tx, record) => {
      if (record?.session != null && record.session.ended !== true) tx.write(slot.key, { ...record, pending: 'manual' });
    });
    if (written) slot.forceNewSession = null; // the store carries it now, for every process
  }

  setAnonymous(slot: Slot, anonymous: boolean): void {
    const written = this.#write(slot, (tx, record) => {
      if (record === null) tx.write(slot.key, { userId: slot.userId, session: null, anonymous, pending: null });
      else if (record.anonymous !== anonymous) {
        const live = record.session !== null && record.session.ended !== true;
        tx.write(slot.key, { ...record, anonymous, pending: live ? 'anonymous' : record.pending });
      }
    });
    if (!written && slot.anonymous !== anonymous && slot.session !== null) slot.forceNewSession = 'anonymous'; // applied at the next write
    slot.anonymous = anonymous;
  }

  isAnonymous(slot: Slot): boolean {
    if (this.#mayTry()) {
      try {
        this.#refresh(slot, this.#entry(slot.key));
      } catch {
        // the last known value
      }
    }
    return slot.anonymous;
  }

  /** A new identity for the key; its session ends now (reason `reset`) and the next event opens session 1. */
  reset(slot: Slot): void {
    const userId = uuidv4();
    let ended: SessionState | null = null;
    const written = this.#write(slot, (tx, record) => {
      const session = record?.session ?? null;
      ended = session === null || session.ended === true ? null : endSession(this.#merged(slot, session));
      tx.write(slot.key, { userId, session: null, anonymous: record?.anonymous ?? slot.anonymous, pending: null });
    });
    if (!written) {
      ended = slot.session === null || slot.session.ended === true ? null : endSession(slot.session);
      slot.fresh = true; // the store's record starts over at the next write
    }
    if (ended !== null) this.parts.lifecycle.ended(slot, ended, 'reset');
    slot.userId = userId;
    slot.session = null;
    slot.lastEntity = null;
    slot.forceNewSession = null;
  }

  /** Before a foreground/background switch: ends the key's session if it timed out in the state being left. */
  expire(slot: Slot, now: number): void {
    const { policy, lifecycle } = this.parts;
    // A stored session's activity only moves on: one that has not expired as this process last read it has
    // not expired as the store holds it now either (no write transaction for the usual switch).
    const known = this.#entries.get(slot.key)?.record?.session;
    if (known != null && known.ended !== true && expiryReason(this.#merged(slot, known), now, slot.background, policy) === null) return;
    let ended: { session: SessionState; reason: SessionEndReason } | null = null;
    const written = this.#write(slot, (tx, record) => {
      ended = null;
      const session = record?.session ?? null;
      if (record === null || session === null || session.ended === true) return;
      const current = this.#merged(slot, session);
      const reason = expiryReason(current, now, slot.background, policy);
      if (reason === null) return;
      tx.write(slot.key, { ...record, session: endSession(session) });
      ended = { session: endSession(current), reason };
    });
    if (!written && slot.session !== null && slot.session.ended !== true) {
      const reason = expiryReason(slot.session, now, slot.background, policy);
      if (reason !== null) ended = { session: endSession(slot.session), reason };
    }
    const end = ended as { session: SessionState; reason: SessionEndReason } | null;
    if (end !== null) lifecycle.ended(slot, end.session, end.reason);
  }

  /**
   * The checker's tick: ends this process's cached keys past their timeout (its background state), then
   * sessions idle past the foreground timeout (found by the store's index, oldest first), and prunes records
   * idle past the retention. Each turn is one transaction of at most `CHECK_BATCH` keys that stops taking
   * keys after `CHECK_TURN_MS`; ending and pruning take turns, one event-loop turn each. A lock held by
   * another process ends the check quietly (the next one goes on): no outage, events still wait for it.
   */
  check(now: number): void {
    const { policy, store } = this.parts;
    if (!this.#mayTry() || policy.suspended === true) return;
    const cutoff = now - policy.foregroundTimeout;
    let from = -Infinity; // past candidates that have not expired (a cached key in the background with a longer timeout)
    let ending = true;
    let pruning = true;
    const turn = (n: number) => {
      const deadline = performance.now() + CHECK_TURN_MS;
      try {
        if (ending && (!pruning || n % 2 === 0)) {
          const found = n === 0 ? this.#cachedIdleKeys(now, deadline) : store.idleKeys(cutoff, CHECK_BATCH, from);
          const done = found.length === 0 ? 0 : this.#endExpired(found.map((c) => c.key), now, deadline);
          if (n > 0 && done > 0) from = found[done - 1]!.lastActivityAt!;
          ending = n === 0 || done < found.length || found.length === CHECK_BATCH;
        } else {
          pruning = store.pruneIdle(now - this.parts.retention, CHECK_BATCH) === CHECK_BATCH;
        }
        if (n + 1 < CHECK_ROUNDS && (ending || pruning)) setImmediate(() => turn(n + 1));
      } catch (error) {
        if (!(error instanceof SessionStoreBusyError)) this.#failed(error);
      }
    };
    turn(0);
  }

  /**
   * Writes what the store does not know yet (this process's activity within `slack`), and with
   * `returnBlocks` gives back the unused indexes of blocks that no process has reserved past (so a clean
   * stop leaves no gap). Throws when the store cannot be written.
   */
  settle(returnBlocks: boolean): void {
    const pending = [...this.#entries].filter(([key, entry]) => {
      const session = this.parts.slots.get(key)?.session;
      const stored = entry.record?.session;
      if (entry.local || session == null || stored == null || session.sessionId !== stored.sessionId) return false;
      return session.lastActivityAt > stored.lastActivityAt || (returnBlocks && entry.block !== null && entry.block.next <= entry.block.to);
    });
    if (pending.length === 0) return;
    this.parts.store.transact((tx) => {
      for (const [key, entry] of pending) {
        const record = tx.read(key);
        const stored = record?.session;
        const mine = this.parts.slots.get(key)?.session;
        if (record == null || stored == null || mine == null || stored.sessionId !== mine.sessionId) continue;
        const block = entry.block;
        const unused = returnBlocks && block !== null && block.sessionId === stored.sessionId && stored.eventIndex === block.to && block.next <= block.to;
        tx.write(key, { ...record, session: { ...stored, lastActivityAt: Math.max(stored.lastActivityAt, mine.lastActivityAt), eventIndex: unused ? block.next - 1 : stored.eventIndex } });
        if (unused) entry.block = null;
        entry.seen = -1;
      }
    }, true);
  }

  /** `settle`, tried again a few times (an event-loop turn apart) while other processes hold the lock: for `flush()` and `close()`. */
  async settleSoon(returnBlocks: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return this.settle(returnBlocks);
      } catch (error) {
        if (!(error instanceof SessionStoreBusyError) || attempt >= SETTLE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
      }
    }
  }

  #entry(key: string | undefined): Entry {
    let entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (key !== undefined && this.#entries.size > 1) {
        this.#entries.delete(key); // most recently used last
        this.#entries.set(key, entry);
      }
      return entry;
    }
    entry = { seen: -1, record: null, block: null, local: false, want: 0 };
    if (this.#entries.size >= this.parts.cacheSize) this.#evict();
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * Forgets the least recently used keys, a 16th of the cache at once (at least one): a Map walked from its
   * start passes over the slots its deletions left until it is rebuilt, so one key at a time would cost a
   * walk per new key.
   */
  #evict(): void {
    let over = this.#entries.size - this.parts.cacheSize + Math.max(1, Math.floor(this.parts.cacheSize / 16));
    for (const oldest of this.#entries.keys()) {
      if (over <= 0) break;
      if (oldest === undefined) continue; // the default session stays
      this.#entries.delete(oldest);
      this.parts.slots.delete(oldest);
      over--;
    }
  }

  /** Reads the key's record again when another process may have written since. */
  #refresh(slot: Slot, entry: Entry): void {
    const seen = this.parts.store.changeCount();
    if (entry.seen === seen) return;
    entry.record = this.#checked(slot.key, this.parts.store.readRecord(slot.key));
    entry.seen = seen;
    this.#adopt(slot, entry.record);
  }

  /** `#refresh` when the store can be read; else the last record read stays. */
  #refreshIfReadable(slot: Slot, entry: Entry): void {
    try {
      this.#refresh(slot, entry);
    } catch {
      // the record read last
    }
  }

  /** The event takes the next index of this process's block, when nothing needs the store. */
  #fromBlock(slot: Slot, entry: Entry, event: SessionEvent, shared: boolean): SyncCounted | null {
    const record = entry.record;
    const stored = record?.session;
    const block = entry.block;
    if (entry.local || stored == null || stored.ended === true || block === null || block.sessionId !== stored.sessionId || block.next > block.to) return null;
    if (shared && event.now - stored.lastActivityAt > this.#slack) return null; // the store must hear of this activity
    const current = this.#merged(slot, stored);
    const decision = nextSessionState(current, { ...event, forceNewSession: this.#force(slot, record!, current) }, this.parts.policy, uuidv4, slot.userId);
    if (decision.opened !== null) return null;
    const state = { ...decision.state, eventIndex: block.next++ };
    return { state, entity: clientSessionEntity(state, this.parts.storageMechanism, slot.anonymous), write: 'none' };
  }

  /** Inside the write transaction: the key's record now, the decision, the indexes reserved, the record written. */
  #decide(slot: Slot, entry: Entry, event: SessionEvent, tx: RecordTransaction): Plan {
    let record = this.#checked(slot.key, tx.read(slot.key));
    const seen = this.parts.store.changeCount(); // nobody else commits until this transaction does
    if (entry.local && slot.session !== null) record = this.#adoptLocal(slot, record, slot.session);
    else if (slot.fresh) record = { userId: slot.userId, session: null, anonymous: record?.anonymous ?? slot.anonymous, pending: null };
    const stored = record?.session ?? null;
    const current = stored === null ? null : this.#merged(slot, stored);
    const decision = nextSessionState(current, { ...event, forceNewSession: this.#force(slot, record, current) }, this.parts.policy, uuidv4, record?.userId ?? slot.userId);
    const anonymous = slot.forceNewSession === 'anonymous' || record === null ? slot.anonymous : record.anonymous;
    const sessionId = decision.state.sessionId;
    const held = entry.block;
    let block: Block;
    let written: SessionState;
    const reserved = decision.opened !== null || held === null || held.sessionId !== sessionId || !hasIndexes(held);
    if (!reserved) {
      block = { ...held!, next: held!.next + 1 }; // activity only: the store hears of it
      written = { ...stored!, lastActivityAt: Math.max(stored!.lastActivityAt, event.now), lastUid: decision.state.lastUid };
    } else {
      const from = decision.state.eventIndex;
      // Blocks grow only for a burst in this process alone: when another process reserved since (it serves the
      // key too), one index at a time keeps the key's indexes contiguous.
      const fresh = held === null || held.sessionId !== sessionId || stored!.eventIndex !== held.to || performance.now() - held.at > BURST_MS;
      const size = Math.max(fresh ? 1 : Math.min(held.size * 2, this.parts.store.indexBlock), entry.want);
      const to = Math.min(from + size - 1, MAX_INDEX);
      block = { sessionId, next: from + 1, to, size, at: performance.now() };
      const lastActivityAt = decision.opened === null ? Math.max(stored!.lastActivityAt, event.now) : decision.state.lastActivityAt;
      written = { ...decision.state, eventIndex: to, lastActivityAt };
    }
    const next: SharedSessionRecord = { userId: decision.state.userId, session: written, anonymous, pending: null };
    tx.write(slot.key, next);
    return { record: next, seen, block, reserved, state: { ...decision.state, eventIndex: block.next - 1 }, opened: decision.opened, ended: decision.ended };
  }

  /** The loaded keys' reservations, in one transaction; while the store fails, the events decide (and report it). */
  #reserveLoaded(loads: Array<{ slot: Slot; now: number }>): void {
    if (this.#outage) return;
    const loaded = loads.flatMap(({ slot, now }) => {
      const entry = this.#entries.get(slot.key);
      return entry === undefined || entry.local || slot.fresh ? [] : [{ slot, now, entry }];
    });
    if (loaded.length === 0) return;
    let seen = -1;
    const plans = this.parts.store.transact((tx) => {
      seen = this.parts.store.changeCount();
      return loaded.map(({ slot, now, entry }) => this.#ahead(slot, entry, now, tx));
    }, true);
    loaded.forEach(({ slot, entry }, i) => {
      const plan = plans[i];
      if (plan === null || plan === undefined) return;
      entry.record = plan.record;
      entry.seen = seen;
      entry.block = plan.block;
      if (plan.block !== null && plan.block.to - plan.block.next + 1 >= entry.want) entry.want = 0; // the request's indexes are held
      slot.userId = plan.record.userId;
      slot.anonymous = plan.record.anonymous;
    });
  }

  /**
   * Inside the loads' transaction: the key's session, if it goes on at `now` (else `null`: the first event
   * decides), with the request's indexes reserved and its activity written unless this process holds them
   * and the store knows the activity.
   */
  #ahead(slot: Slot, entry: Entry, now: number, tx: RecordTransaction): { record: SharedSessionRecord; block: Block | null } | null {
    const record = this.#checked(slot.key, tx.read(slot.key));
    const stored = record?.session;
    if (record == null || stored == null || stored.ended === true) return null;
    const current = this.#merged(slot, stored);
    if (this.#force(slot, record, current) !== null || expiryReason(current, now, slot.background, this.parts.policy) !== null) return null;
    const held = entry.block !== null && entry.block.sessionId === stored.sessionId && hasIndexes(entry.block) ? entry.block : null;
    const holds = held === null ? 0 : held.to - held.next + 1;
    if (holds >= entry.want && now - stored.lastActivityAt <= this.#slack) return { record, block: held };
    let block = held;
    let to = stored.eventIndex;
    if (holds < entry.want && (held === null || held.to === stored.eventIndex)) {
      to = Math.min(stored.eventIndex + entry.want - holds, MAX_INDEX); // follows the held indexes, or starts a block
      block = { sessionId: stored.sessionId, next: held?.next ?? stored.eventIndex + 1, to, size: entry.want, at: performance.now() };
    }
    const next: SharedSessionRecord = { ...record, session: { ...stored, eventIndex: to, lastActivityAt: Math.max(stored.lastActivityAt, now) } };
    tx.write(slot.key, next);
    return { record: next, block };
  }

  /** A committed decision: this process reports the end and the start it made (no other process can). */
  #apply(slot: Slot, entry: Entry, plan: Plan): SyncCounted {
    entry.record = plan.record;
    entry.seen = plan.seen;
    if (plan.reserved) entry.want = 0; // it took what load() asked
    entry.block = plan.block;
    entry.local = false;
    slot.fresh = false;
    slot.userId = plan.record.userId;
    slot.anonymous = plan.record.anonymous;
    const { lifecycle } = this.parts;
    if (plan.ended !== null) lifecycle.ended(slot, plan.ended.session, plan.ended.reason);
    if (plan.opened !== null) lifecycle.opened(slot, plan.opened);
    slot.forceNewSession = null;
    return { state: plan.state, entity: clientSessionEntity(plan.state, this.parts.storageMechanism, slot.anonymous), write: 'none' };
  }

  /**
   * The store cannot be written: this process's block of the stored session, else the stored session with
   * `eventIndex` null (another process may hand out its next indexes), else a session opened in memory
   * (all of whose indexes are this process's: its id is new).
   */
  #countFromMemory(slot: Slot, entry: Entry, event: SessionEvent): SyncCounted {
    const fast = this.#fromBlock(slot, entry, event, false);
    if (fast !== null) return fast;
    const { policy, lifecycle, storageMechanism } = this.parts;
    const stored = entry.record?.session ?? null;
    const base = entry.local || stored === null || slot.fresh ? slot.session : this.#merged(slot, stored);
    const force = entry.record === null || entry.local ? slot.forceNewSession : this.#force(slot, entry.record, base);
    const decision = nextSessionState(base, { ...event, forceNewSession: force }, policy, uuidv4, slot.userId);
    if (decision.opened === null && !entry.local) {
      const state = { ...decision.state, eventIndex: base!.eventIndex };
      return { state, entity: { ...clientSessionEntity(state, storageMechanism, slot.anonymous), eventIndex: null }, write: 'none' };
    }
    if (decision.ended !== null) lifecycle.ended(slot, decision.ended.session, decision.ended.reason);
    if (decision.opened !== null) {
      lifecycle.opened(slot, decision.opened);
      entry.local = true;
      entry.block = null;
    }
    return { state: decision.state, entity: clientSessionEntity(decision.state, storageMechanism, slot.anonymous), write: 'none' };
  }

  /**
   * A session opened in memory becomes the key's session when the store still holds the one it followed
   * (or, after a `reset()` made in memory, whatever it holds); else the store's record wins, and the
   * session opened in memory is left out of the chain.
   */
  #adoptLocal(slot: Slot, record: SharedSessionRecord | null, local: SessionState): SharedSessionRecord | null {
    const follows = slot.fresh || ((record?.session?.sessionId ?? null) === local.previousSessionId && (record === null || record.userId === local.userId));
    if (!follows || local.ended === true) return record;
    return { userId: local.userId, session: local, anonymous: slot.anonymous, pending: null };
  }

  /** Why the next event must open a session though time alone would not: a process asked for one, or this process restarted. */
  #force(slot: Slot, record: SharedSessionRecord | null, current: SessionState | null): SessionEndReason | null {
    const { restartedAt } = this.parts;
    const restart = restartedAt !== null && current !== null && current.ended !== true && current.lastActivityAt < restartedAt;
    return record?.pending ?? slot.forceNewSession ?? (restart ? 'restart' : null);
  }

  /** The stored session with this process's own activity in it (the store may not know it yet). */
  #merged(slot: Slot, stored: SessionState): SessionState {
    const mine = slot.session;
    if (mine === null || mine.sessionId !== stored.sessionId || mine.lastActivityAt <= stored.lastActivityAt) return stored;
    return { ...stored, lastActivityAt: mine.lastActivityAt, lastUid: mine.lastUid ?? null };
  }

  /** The slot follows the record: its identity and anonymous tracking are the same in every process. */
  #adopt(slot: Slot, record: SharedSessionRecord | null): void {
    if (record === null || slot.fresh) return;
    slot.userId = record.userId;
    if (slot.forceNewSession !== 'anonymous') slot.anonymous = record.anonymous;
  }

  /** A record is checked as every store's answer is; an unusable session is replaced by the next decision. */
  #checked(key: string | undefined, record: SharedSessionRecord | null): SharedSessionRecord | null {
    if (record === null) return null;
    const stored = readStoredSession(record.session ?? { userId: record.userId });
    const userId = stored.userId ?? readStoredSession({ userId: record.userId }).userId;
    if (record.session === null && userId !== null) return record;
    if (stored.problem === null) return { ...record, session: stored.state };
    const which = key === undefined ? 'the default session' : 'a keyed session';
    this.parts.logger.warn(`snowplow-client-session: ignoring the stored record of ${which}: ${stored.problem}; a new session replaces it`);
    return userId === null ? null : { userId, session: stored.state, anonymous: record.anonymous === true, pending: null };
  }

  /** Cached keys whose session has timed out by this process's view (its background state, its activity). */
  #cachedIdleKeys(now: number, deadline: number): Array<{ key: string | undefined; lastActivityAt?: number }> {
    const { slots, policy } = this.parts;
    const keys: Array<{ key: string | undefined }> = [];
    let seen = 0;
    for (const [key, entry] of this.#entries) { // the least recently used first
      if (++seen % 256 === 0 && performance.now() > deadline) break;
      const stored = entry.record?.session;
      const slot = slots.get(key);
      if (entry.local || stored == null || stored.ended === true || slot === undefined) continue;
      if (expiryReason(this.#merged(slot, stored), now, slot.background, policy) !== null) keys.push({ key });
      if (keys.length === CHECK_BATCH) break;
    }
    return keys;
  }

  /**
   * Ends the keys' sessions that have expired, in one transaction that takes no further key after
   * `deadline`; reports each end here. Returns how many keys it looked at (the first ones).
   */
  #endExpired(keys: Array<string | undefined>, now: number, deadline: number): number {
    const { slots, policy, lifecycle, store } = this.parts;
    let done = 0;
    const ends = store.transact((tx) => {
      const found: Array<{ key: string | undefined; record: SharedSessionRecord; session: SessionState; reason: SessionEndReason }> = [];
      for (done = 0; done < keys.length && (done === 0 || performance.now() < deadline); done++) {
        const key = keys[done];
        const record = this.#checked(key, tx.read(key));
        const stored = record?.session;
        if (record == null || stored == null || stored.ended === true) continue;
        const slot = slots.get(key);
        const current = slot === undefined ? stored : this.#merged(slot, stored);
        const reason = expiryReason(current, now, slot?.background ?? false, policy);
        if (reason === null) continue;
        tx.write(key, { ...record, session: endSession(stored) });
        found.push({ key, record, session: endSession(current), reason });
      }
      return found;
    }, false);
    for (const { key, record, session, reason } of ends) {
      const cached = slots.get(key);
      const slot = cached ?? slots.ensure(key);
      slot.anonymous = record.anonymous;
      lifecycle.ended(slot, session, reason);
      if (cached === undefined) slots.delete(key);
      const entry = this.#entries.get(key);
      if (entry !== undefined) entry.seen = -1;
    }
    return done;
  }

  /** A write of the key's record outside an event; false (nothing written) when the store cannot be written now. */
  #write(slot: Slot, change: (tx: RecordTransaction, record: SharedSessionRecord | null) => void): boolean {
    if (!this.#mayTry()) return false;
    const entry = this.#entry(slot.key);
    try {
      this.parts.store.transact((tx) => change(tx, this.#checked(slot.key, tx.read(slot.key))), !this.#outage);
      this.#recovered();
      entry.seen = -1; // read it again at the next event
      return true;
    } catch (error) {
      this.#failed(error);
      return false;
    }
  }

  /** While the store fails: a held lock is tried again at once (without waiting); anything else after a backoff. */
  #mayTry(): boolean {
    return !this.#outage || this.#busy || performance.now() >= this.#nextTry;
  }

  #failed(error: unknown): void {
    if (!this.#outage) {
      logFailure(this.parts.logger, 'snowplow-client-session: cannot write the session database (logged once until it works again); tracking goes on from memory', error);
      this.parts.onError(error);
    }
    this.#outage = true;
    this.#busy = error instanceof SessionStoreBusyError;
    if (!this.#busy) {
      this.#nextTry = performance.now() + this.#retryDelay;
      this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_MS);
    }
  }

  #recovered(): void {
    if (!this.#outage) return;
    this.#outage = false;
    this.#retryDelay = FIRST_RETRY_MS;
    this.parts.logger.warn('snowplow-client-session: the session database is writable again');
  }
}
