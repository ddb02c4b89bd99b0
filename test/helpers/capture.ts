import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTracker, type Tracker } from '@snowplow/node-tracker';
import type { ClientSession } from '../../plugin/index.js';
import { CLIENT_SESSION_SCHEMA } from '../../plugin/schema-uris.js';
import type { ClientSessionEntity } from '../../plugin/session/entity.js';

export type Payload = Record<string, string>;

/** A real node-tracker whose requests are captured (no network): `customFetch` keeps each payload. */
export function capturingTracker(session: ClientSession, encodeBase64 = true): { tracker: Tracker; payloads: Payload[] } {
  const payloads: Payload[] = [];
  const tracker = newTracker(
    { namespace: 'test', appId: 'client-session-tests', encodeBase64 },
    {
      endpoint: 'http://127.0.0.1:9',
      customFetch: async (request: Request) => {
        const body = (await request.json()) as { data: Payload[] };
        payloads.push(...body.data);
        return new Response(null, { status: 200 });
      },
    },
  );
  tracker.addPlugin(session);
  return { tracker, payloads };
}

/**
 * A real node-tracker whose events are recorded as it sends them, synchronously (a plugin's `afterTrack`,
 * after node-tracker added its own fields), so concurrent requests need no flush to be counted.
 */
export function recordingTracker(session: ClientSession): { tracker: Tracker; payloads: Payload[] } {
  const payloads: Payload[] = [];
  const tracker = newTracker({ namespace: 'test', appId: 'client-session-tests' }, { endpoint: 'http://127.0.0.1:9', customFetch: async () => new Response(null, { status: 200 }) });
  tracker.addPlugin(session);
  tracker.addPlugin({ plugin: { afterTrack: (payload) => void payloads.push(Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)]))) } });
  return { tracker, payloads };
}

/** The entities of a payload, from `cx` (base64url) or `co`. */
export function entitiesOf(payload: Payload): Array<{ schema: string; data: Record<string, unknown> }> {
  const raw = payload.cx !== undefined ? Buffer.from(payload.cx, 'base64url').toString('utf8') : payload.co;
  if (raw === undefined) return [];
  return (JSON.parse(raw) as { data: Array<{ schema: string; data: Record<string, unknown> }> }).data;
}

/** The one client_session entity of a payload; fails when there is not exactly one. */
export function sessionOf(payload: Payload): ClientSessionEntity {
  const found = entitiesOf(payload).filter((e) => e.schema === CLIENT_SESSION_SCHEMA);
  if (found.length !== 1) throw new Error(`expected exactly one client_session entity, found ${found.length}`);
  return found[0]!.data as unknown as ClientSessionEntity;
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 0, 1, 12)): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms), set: (ms) => void (time = ms) };
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'client-session-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A logger that records what it is told. */
export function recordingLogger(): { warn: (m: string) => void; error: (m: string) => void; warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warn: (m) => void warnings.push(m), error: (m) => void errors.push(m), warnings, errors };
}

/** The self-describing event of a payload (`ue_px` or `ue_pr`), or null. */
export function eventOf(payload: Payload): { schema: string; data: Record<string, unknown> } | null {
  const raw = payload.ue_px !== undefined ? Buffer.from(payload.ue_px, 'base64url').toString('utf8') : payload.ue_pr;
  if (raw === undefined) return null;
  return (JSON.parse(raw) as { data: { schema: string; data: Record<string, unknown> } }).data;
}
