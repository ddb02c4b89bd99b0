import { createClient } from 'redis';
import type { SessionEndReason, SessionState } from '../session/state.js';
import { STORAGE_MECHANISMS, type LeaseRequest, type SessionLease, type SessionStore, type StorageMechanism } from './session-store.js';

/** What the store needs of a node-redis client (v4 and later): `eval`, and `quit` when the store owns it. */
export interface RedisScriptClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  del(key: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
  isOpen?: boolean;
  quit?(): Promise<unknown>;
}

export interface RedisSessionStoreOptions {
  /** A connected node-redis client (shared with the app), or… */
  client?: RedisScriptClient;
  /** …a URL: the store then opens, and closes, its own client. */
  url?: string;
  /** Key prefix. Default `snowplow:client_session:`. */
  prefix?: string;
  /** Seconds a session record lives after its last activity (Redis TTL). Default 30 days. */
  retention?: number;
  /** Reported in the entity; default `LOCAL_STORAGE` (no value of the schema names a server-side store). */
  storageMechanism?: StorageMechanism;
}

// Atomic inside Redis: decide timeout / rotation, then hand out a block of event indexes. One script per
// load, so several processes loading the same user at once see one rotation, never two.
// KEYS[1] record; ARGV: now, fgTimeout, bgTimeout, background, maxLength, clockTolerance, forceNew,
// block, newSessionId, newUserId, ttlSeconds, maxIndex
const LEASE = `
local now = tonumber(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local s = raw and cjson.decode(raw) or nil
local reason = nil
local ended = nil
local opened = false
if s == nil then
  s = { userId = ARGV[10], sessionId = ARGV[9], previousSessionId = cjson.null, sessionIndex = 1, eventIndex = 0,
        firstEventId = cjson.null, firstEventTimestamp = cjson.null, startedAt = now, lastActivityAt = now }
  opened = true
else
  local last = tonumber(s.lastActivityAt)
  local timeout = (ARGV[4] == '1') and tonumber(ARGV[3]) or tonumber(ARGV[2])
  if ARGV[7] == '1' then reason = 'manual'
  elseif now < last - tonumber(ARGV[6]) then reason = 'clock'
  elseif now - last > timeout then reason = (ARGV[4] == '1') and 'backgroundTimeout' or 'timeout'
  elseif tonumber(ARGV[5]) > 0 and now - tonumber(s.startedAt) > tonumber(ARGV[5]) then reason = 'maxLength'
  elseif tonumber(s.eventIndex) >= tonumber(ARGV[12]) then reason = 'maxLength'
  end
  if reason then
    ended = cjson.decode(raw)
    s = { userId = s.userId, sessionId = ARGV[9], previousSessionId = s.sessionId,
          sessionIndex = math.min(tonumber(s.sessionIndex) + 1, tonumber(ARGV[12])), eventIndex = 0,
          firstEventId = cjson.null, firstEventTimestamp = cjson.null, startedAt = now, lastActivityAt = now }
    opened = true
  end
end
local from = tonumber(s.eventIndex) + 1
s.eventIndex = math.min(tonumber(s.eventIndex) + tonumber(ARGV[8]), tonumber(ARGV[12]))
if now > tonumber(s.lastActivityAt) then s.lastActivityAt = now end
redis.call('SET', KEYS[1], cjson.encode(s), 'EX', tonumber(ARGV[11]))
return cjson.encode({ session = s, from = from, to = s.eventIndex, opened = opened, reason = reason or cjson.null, ended = ended or cjson.null })
`;

// Atomic merge of what a process saw: only moves lastActivityAt forward and fills the first event of the
// same session; a record of another (older or local) session never overwrites Redis's.
// KEYS[1] record; ARGV: state JSON, ttlSeconds
const MERGE = `
local incoming = cjson.decode(ARGV[1])
local raw = redis.call('GET', KEYS[1])
if not raw then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
  return 1
end
local s = cjson.decode(raw)
if s.sessionId ~= incoming.sessionId then return 0 end
if tonumber(incoming.lastActivityAt) > tonumber(s.lastActivityAt) then s.lastActivityAt = incoming.lastActivityAt end
if s.firstEventId == cjson.null and incoming.firstEventId ~= cjson.null then
  s.firstEventId = incoming.firstEventId
  s.firstEventTimestamp = incoming.firstEventTimestamp
end
redis.call('SET', KEYS[1], cjson.encode(s), 'EX', tonumber(ARGV[2]))
return 1
`;

/**
 * Sessions in Redis, shared by every process and machine that uses the same Redis and prefix. The plugin
 * calls `lease()` from `ClientSession.load(key)`: one Lua script decides rotation and reserves event
 * indexes, so `track()` stays synchronous and several processes never double-rotate or repeat an index.
 */
export class RedisSessionStore implements SessionStore {
  readonly storageMechanism: StorageMechanism;
  readonly prefix: string;
  readonly #client: RedisScriptClient;
  readonly #ownsClient: boolean;
  readonly #ttl: number;
  #connecting: Promise<unknown> | undefined;

  constructor(options: RedisSessionStoreOptions) {
    if (options?.client === undefined && typeof options?.url !== 'string') {
      throw new TypeError('snowplow-client-session: RedisSessionStore needs a connected `client` (node-redis) or a `url` such as redis://127.0.0.1:6379');
    }
    const mechanism = options.storageMechanism ?? 'LOCAL_STORAGE';
    if (!STORAGE_MECHANISMS.includes(mechanism)) {
      throw new RangeError(`snowplow-client-session: RedisSessionStore option \`storageMechanism\` must be one of ${STORAGE_MECHANISMS.join(', ')}`);
    }
    const retention = options.retention ?? 30 * 24 * 3600;
    if (!Number.isFinite(retention) || retention < 1) {
      throw new RangeError(`snowplow-client-session: RedisSessionStore option \`retention\` must be a finite number of seconds >= 1, got ${retention}`);
    }
    this.storageMechanism = mechanism;
    this.prefix = options.prefix ?? 'snowplow:client_session:';
    this.#ttl = Math.ceil(retention);
    if (options.client !== undefined) {
      this.#client = options.client;
      this.#ownsClient = false;
    } else {
      // No offline queue: while Redis is down, commands fail at once instead of piling up (and blocking loads).
      const client = createClient({ url: options.url, disableOfflineQueue: true, socket: { connectTimeout: 1000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000) } });
      client.on('error', () => undefined); // failures reach the plugin through the rejected commands
      this.#client = client as unknown as RedisScriptClient;
      this.#ownsClient = true;
      this.#connecting = client.connect().catch(() => undefined);
    }
  }

  async getSession(key?: string): Promise<SessionState | null> {
    await this.#connecting;
    const raw = await this.#client.get(this.#key(key));
    return raw === null ? null : (JSON.parse(raw) as SessionState);
  }

  /** Merges the process's view into Redis atomically (never regresses the shared session). */
  async setSession(session: SessionState, key?: string): Promise<void> {
    await this.#connecting;
    await this.#client.eval(MERGE, { keys: [this.#key(key)], arguments: [JSON.stringify(session), String(this.#ttl)] });
  }

  async deleteSession(key?: string): Promise<void> {
    await this.#connecting;
    await this.#client.del(this.#key(key));
  }

  async lease(key: string | undefined, request: LeaseRequest): Promise<SessionLease> {
    await this.#connecting;
    const raw = await this.#client.eval(LEASE, {
      keys: [this.#key(key)],
      arguments: [
        request.now,
        request.policy.foregroundTimeout,
        request.policy.backgroundTimeout,
        request.background ? 1 : 0,
        request.policy.maxSessionLength,
        request.policy.clockTolerance,
        request.forceNewSession ? 1 : 0,
        request.block,
        request.newSessionId,
        request.newUserId,
        this.#ttl,
        request.maxIndex,
      ].map(String),
    });
    const answer = JSON.parse(String(raw)) as {
      session: SessionState;
      from: number;
      to: number;
      opened: boolean;
      reason: SessionEndReason | null;
      ended: SessionState | null;
    };
    return {
      session: answer.session,
      from: answer.from,
      to: answer.to,
      opened: answer.opened,
      ended: answer.ended === null || answer.reason === null ? null : { session: answer.ended, reason: answer.reason },
    };
  }

  async close(): Promise<void> {
    if (this.#ownsClient && this.#client.isOpen !== false) await this.#client.quit?.().catch(() => undefined);
  }

  #key(key: string | undefined): string {
    return key === undefined ? `${this.prefix}default` : `${this.prefix}key:${key}`;
  }
}
