import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { SessionEndReason, SessionState } from '../session/state.js';
import { withTimeout } from '../util/with-timeout.js';
import { STORAGE_MECHANISMS, type ExtendRequest, type LeaseRequest, type SessionLease, type SessionStore, type StorageMechanism } from './session-store.js';

/** What the store needs of a node-redis client or cluster (v4 and later): `eval`, and `close`/`quit` when the store owns it. */
export interface RedisScriptClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** Used when present: the script is sent once, then named by its SHA-1. */
  evalSha?(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<unknown>;
  isOpen?: boolean;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  destroy?(): unknown;
}

export interface RedisSessionStoreOptions {
  /** A connected node-redis client or cluster (shared with the app), or… */
  client?: RedisScriptClient;
  /** …a URL (`redis://`, or `rediss://user:password@host:port` for TLS and ACL): the store opens, and closes, its own client; or… */
  url?: string;
  /** …the URLs of some nodes of a Redis Cluster: the store opens its own cluster client. */
  cluster?: string[];
  /** Key prefix. Default `snowplow:client_session:`. No `{` or `}` (the key itself is the hash tag). */
  prefix?: string;
  /** Seconds a session record lives after its last activity (Redis TTL). Default 30 days. */
  retention?: number;
  /** Milliseconds each Redis command (and the wait for the connection) may take before it fails. Default 1000. */
  commandTimeout?: number;
  /** Reported in the entity; default `LOCAL_STORAGE` (no value of the schema names a server-side store). */
  storageMechanism?: StorageMechanism;
}

/** The most commands the store's own client keeps queued (waiting to be written or for a reply). */
const MAX_QUEUED_COMMANDS = 1000;
/** A duration no session reaches (ms): how a suspended policy's timeouts reach the script. */
const NEVER = 8.64e15;
/** The most commands the store has in flight at once; a large batch of writes waits its turn here. */
const MAX_IN_FLIGHT = 256;

// `now`: the request's time, or Redis's own clock (TIME) when the caller passes '' (one clock for every server).
const CLOCK = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// Atomic inside Redis: decide timeout / rotation, then hand out a block of event indexes. One script per
// load, so several processes loading the same user at once see one rotation, never two. A missing record
// (new key, expired, evicted, deleted) opens a new session with a new id, so no (sessionId, eventIndex)
// pair ever emitted can come again; it links to the caller's last known session when there is one.
// KEYS[1] record; ARGV: now, fgTimeout, bgTimeout, background, maxLength, clockTolerance, forceReason ('' none),
// block, newSessionId, newUserId, ttlSeconds, maxIndex, knownSessionId, knownSessionIndex, fresh ('1': session 1
// of newUserId, whatever is stored), restartedAt ('' or ms: a session idle since before it ends with 'restart'),
// anonymous ('1'/'0': the record's anonymous tracking, set when it is created, reset or switched with reason 'anonymous')
const LEASE = script(`${CLOCK}
local now = clock(ARGV[1])
local maxIndex = tonumber(ARGV[12])
local raw = redis.call('GET', KEYS[1])
local s = raw and cjson.decode(raw) or nil
local anonymous = s ~= nil and s.anonymous == true
local reason = nil
local ended = nil
local opened = false
local function open(userId, previousId, previousIndex)
  return { userId = userId, sessionId = ARGV[9], previousSessionId = previousId,
           sessionIndex = math.min(previousIndex + 1, maxIndex), eventIndex = 0,
           firstEventId = cjson.null, firstEventTimestamp = cjson.null, startedAt = now, lastActivityAt = now }
end
local fresh = ARGV[15] == '1'
if s == nil then
  if ARGV[13] ~= '' and not fresh then s = open(ARGV[10], ARGV[13], tonumber(ARGV[14])) else s = open(ARGV[10], cjson.null, 0) end
  opened = true
elseif fresh then
  reason = 'reset'
  ended = cjson.decode(raw)
  s = open(ARGV[10], cjson.null, 0)
  opened = true
else
  local last = tonumber(s.lastActivityAt)
  local timeout = (ARGV[4] == '1') and tonumber(ARGV[3]) or tonumber(ARGV[2])
  if ARGV[7] ~= '' then reason = ARGV[7]
  elseif tonumber(s.eventIndex) >= maxIndex then reason = 'maxLength'
  elseif now < last - tonumber(ARGV[6]) then reason = 'clock'
  elseif now - last > timeout then reason = (ARGV[4] == '1') and 'backgroundTimeout' or 'timeout'
  elseif tonumber(ARGV[5]) > 0 and now - tonumber(s.startedAt) > tonumber(ARGV[5]) then reason = 'maxLength'
  elseif ARGV[16] ~= '' and last < tonumber(ARGV[16]) then reason = 'restart'
  end
  if reason then
    ended = cjson.decode(raw)
    s = open(s.userId, s.sessionId, tonumber(s.sessionIndex))
    opened = true
  end
end
if raw == nil or fresh or reason == 'anonymous' then anonymous = ARGV[17] == '1' end
s.anonymous = anonymous
local from = tonumber(s.eventIndex) + 1
s.eventIndex = math.min(tonumber(s.eventIndex) + tonumber(ARGV[8]), maxIndex)
if now > tonumber(s.lastActivityAt) then s.lastActivityAt = now end
redis.call('SET', KEYS[1], cjson.encode(s), 'EX', tonumber(ARGV[11]))
return cjson.encode({ session = s, from = from, to = s.eventIndex, opened = opened, reason = reason or cjson.null, ended = ended or cjson.null, now = now, anonymous = anonymous })
`);

// More indexes for the session a process holds, only while it is still the key's session: never creates,
// never rotates. KEYS[1] record; ARGV: now, sessionId, block, maxIndex, ttlSeconds
const EXTEND = script(`${CLOCK}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local s = cjson.decode(raw)
if s.sessionId ~= ARGV[2] then return false end
local from = tonumber(s.eventIndex) + 1
s.eventIndex = math.min(tonumber(s.eventIndex) + tonumber(ARGV[3]), tonumber(ARGV[4]))
local now = clock(ARGV[1])
if now > tonumber(s.lastActivityAt) then s.lastActivityAt = now end
redis.call('SET', KEYS[1], cjson.encode(s), 'EX', tonumber(ARGV[5]))
return cjson.encode({ from = from, to = s.eventIndex })
`);

// Merges what a process saw into the record of the same session: only moves lastActivityAt forward (never
// past Redis's clock unless the caller's clock is injected) and fills the first event. It never creates a
// record and never touches eventIndex: a record that is gone stays gone until the next lease.
// KEYS[1] record; ARGV: state JSON, ttlSeconds, now ('' = cap at Redis's clock; else no cap)
const MERGE = script(`${CLOCK}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = cjson.decode(raw)
local incoming = cjson.decode(ARGV[1])
if s.sessionId ~= incoming.sessionId then return 0 end
local last = tonumber(incoming.lastActivityAt)
if ARGV[3] == '' then last = math.min(last, clock('')) end
if last > tonumber(s.lastActivityAt) then s.lastActivityAt = last end
if s.firstEventId == cjson.null and incoming.firstEventId ~= cjson.null then
  s.firstEventId = incoming.firstEventId
  s.firstEventTimestamp = incoming.firstEventTimestamp
end
redis.call('SET', KEYS[1], cjson.encode(s), 'EX', tonumber(ARGV[2]))
return 1
`);

interface Script {
  text: string;
  sha1: string;
}

function script(text: string): Script {
  return { text, sha1: createHash('sha1').update(text).digest('hex') };
}

/**
 * Sessions in Redis (a server or a Cluster), shared by every process and machine that uses the same Redis
 * and prefix. The plugin calls `lease()` from `ClientSession.load(key)`: one Lua script decides rotation on
 * Redis's clock and reserves event indexes, so `track()` stays synchronous, several processes never
 * double-rotate or repeat an index, and servers' clock skew does not matter. Every command is bounded by
 * `commandTimeout`.
 */
export class RedisSessionStore implements SessionStore {
  readonly storageMechanism: StorageMechanism;
  readonly access = 'lease';
  readonly prefix: string;
  readonly #client: RedisScriptClient;
  readonly #ownsClient: boolean;
  readonly #ttl: number;
  readonly #timeout: number;
  #connecting: Promise<unknown> | undefined;
  /** The request's clock is injected (tests): MERGE must not cap times at Redis's clock. */
  #injectedClock = false;
  #inFlight = 0;
  /** Commands waiting for a place in flight (at most one batch of the plugin's writes, one per key). */
  readonly #waiting: Array<() => void> = [];

  constructor(options: RedisSessionStoreOptions) {
    const sources = [options?.client, options?.url, options?.cluster].filter((v) => v !== undefined).length;
    if (sources !== 1) {
      throw new TypeError(
        'snowplow-client-session: RedisSessionStore needs exactly one of a connected `client` (node-redis), a `url` such as redis://127.0.0.1:6379, or `cluster` (a list of node URLs)',
      );
    }
    this.storageMechanism = checkMechanism(options.storageMechanism ?? 'LOCAL_STORAGE');
    this.prefix = checkPrefix(options.prefix ?? 'snowplow:client_session:');
    this.#ttl = Math.ceil(positive('retention', options.retention ?? 30 * 24 * 3600, 'seconds'));
    this.#timeout = positive('commandTimeout', options.commandTimeout ?? 1000, 'milliseconds');
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? this.#openClient(options.url, options.cluster);
  }

  async getSession(key?: string): Promise<SessionState | null> {
    const raw = await this.#command('GET', () => this.#client.get(this.#key(key)));
    return raw === null ? null : (JSON.parse(raw) as SessionState);
  }

  /** Merges the process's view into the record of the same session (never creates one, never regresses it). */
  async setSession(session: SessionState, key?: string): Promise<void> {
    const args = [JSON.stringify(session), String(this.#ttl), this.#injectedClock ? 'injected' : ''];
    await this.#command('the merge script', () => this.#script(MERGE, this.#key(key), args));
  }

  async deleteSession(key?: string): Promise<void> {
    await this.#command('DEL', () => this.#client.del(this.#key(key)));
  }

  async lease(key: string | undefined, request: LeaseRequest): Promise<SessionLease> {
    if (request.now !== null) this.#injectedClock = true;
    // Suspended (`suspend()`): no time-based end, as in the local state machine.
    const off = request.policy.suspended === true;
    const { policy } = request;
    const args = [
      request.now ?? '',
      off ? NEVER : policy.foregroundTimeout,
      off ? NEVER : policy.backgroundTimeout,
      request.background ? 1 : 0,
      off ? 0 : policy.maxSessionLength,
      off ? NEVER : policy.clockTolerance,
      request.forceNewSession ? (request.forceReason ?? 'manual') : '',
      request.block,
      request.newSessionId,
      request.newUserId,
      this.#ttl,
      request.maxIndex,
      request.known?.sessionId ?? '',
      request.known?.sessionIndex ?? 0,
      request.fresh === true ? 1 : '',
      request.restartedAt ?? '',
      request.anonymous === true ? 1 : 0,
    ].map(String);
    const raw = await this.#command('the lease script', () => this.#script(LEASE, this.#key(key), args));
    const answer = JSON.parse(String(raw)) as Omit<SessionLease, 'ended'> & { reason: SessionEndReason | null; ended: SessionState | null };
    const ended = answer.ended === null || answer.reason === null ? null : { session: answer.ended, reason: answer.reason };
    return { session: answer.session, from: answer.from, to: answer.to, opened: answer.opened, ended, now: answer.now, anonymous: answer.anonymous === true };
  }

  async extendLease(key: string | undefined, request: ExtendRequest): Promise<{ from: number; to: number } | null> {
    const args = [request.now ?? '', request.sessionId, request.block, request.maxIndex, this.#ttl].map(String);
    const raw = await this.#command('the extend script', () => this.#script(EXTEND, this.#key(key), args));
    return raw === null || raw === undefined ? null : (JSON.parse(String(raw)) as { from: number; to: number });
  }

  /** Closes the store's own client (within `commandTimeout`, else drops the connection); a shared client is the app's. */
  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    const client = this.#client;
    if (client.isOpen === false) {
      client.destroy?.();
      return;
    }
    await withTimeout(Promise.resolve(client.close?.()), this.#timeout, 'close').catch(() => client.destroy?.());
  }

  /** Runs a script by its SHA-1 (EVALSHA), sending its text (EVAL) only when Redis does not have it yet. */
  async #script(script: Script, key: string, args: string[]): Promise<unknown> {
    const options = { keys: [key], arguments: args };
    if (this.#client.evalSha === undefined) return this.#client.eval(script.text, options);
    try {
      return await this.#client.evalSha(script.sha1, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.#client.eval(script.text, options);
    }
  }

  /**
   * One command, bounded: once it has a place among the `MAX_IN_FLIGHT`, it waits for the connection and
   * the reply for at most `commandTimeout` in all.
   */
  async #command<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#inFlight++;
    try {
      const ready = this.#connecting === undefined ? run() : this.#connecting.then(run);
      return await withTimeout(ready, this.#timeout, `snowplow-client-session: Redis did not answer ${what} within ${this.#timeout} ms (RedisSessionStore option commandTimeout)`);
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
  }

  #openClient(url: string | undefined, cluster: string[] | undefined): RedisScriptClient {
    const connection = {
      // No offline queue and a bounded queue: while Redis is down or frozen, commands fail at once instead of piling up.
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
      // The store bounds every command itself (commandTimeout); node-redis's own per-command timer would be a second one.
      commandOptions: { timeout: 0 },
      socket: { connectTimeout: this.#timeout, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) },
    };
    const client = this.#createClient(url, cluster, connection);
    client.on('error', () => undefined); // failures reach the plugin through the rejected commands
    this.#connecting = client.connect().catch(() => undefined);
    return client as unknown as RedisScriptClient;
  }

  #createClient(url: string | undefined, cluster: string[] | undefined, connection: object) {
    if (cluster !== undefined) {
      if (!Array.isArray(cluster) || cluster.length === 0 || !cluster.every((u) => typeof u === 'string')) {
        throw new TypeError('snowplow-client-session: RedisSessionStore option `cluster` must be a non-empty list of node URLs (redis://host:port)');
      }
      return redisModule().createCluster({ rootNodes: cluster.map((u) => ({ url: u })), defaults: connection });
    }
    if (typeof url !== 'string') throw new TypeError('snowplow-client-session: RedisSessionStore option `url` must be a string such as redis://127.0.0.1:6379');
    return redisModule().createClient({ url, ...connection });
  }

  /** Keyed records carry the key as their hash tag, so every key of one session maps to one Cluster slot. */
  #key(key: string | undefined): string {
    return key === undefined ? `${this.prefix}default` : `${this.prefix}{${key}}`;
  }
}

/**
 * node-redis, loaded when a store first opens its own client (it is CommonJS, so a synchronous require
 * works). It is an optional peer dependency: apps that never use Redis never install it.
 */
function redisModule(): typeof import('redis') {
  try {
    return createRequire(import.meta.url)('redis') as typeof import('redis');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error('snowplow-client-session: RedisSessionStore needs the `redis` package (an optional peer dependency): npm install redis@6', { cause: error });
  }
}

function checkMechanism(mechanism: StorageMechanism): StorageMechanism {
  if (!STORAGE_MECHANISMS.includes(mechanism)) {
    throw new RangeError(`snowplow-client-session: RedisSessionStore option \`storageMechanism\` must be one of ${STORAGE_MECHANISMS.join(', ')}`);
  }
  return mechanism;
}

function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError(`snowplow-client-session: RedisSessionStore option \`prefix\` must be a string without { or } (the key is the hash tag), got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

function positive(name: string, value: unknown, unit: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new RangeError(`snowplow-client-session: RedisSessionStore option \`${name}\` must be a finite number of ${unit} >= 1, got ${String(value)}`);
  }
  return value;
}
