/**
 * One large-store measurement in a fresh process (prints JSON): start-up on a store of many keys, the
 * heap it keeps per key, then steady tracking (2000 events/s on random keys, 10 s, with one compaction
 * in the middle for lowdb) while `monitorEventLoopDelay` records how long the event loop was held up.
 *   node large-store-child.js <lowdb|memory> <file> <keys>
 */
import { trackerCore } from '@snowplow/tracker-core';
import { createClientSession, LowdbSessionStore, MemorySessionStore } from '../../plugin/index.js';
import { SessionDocumentFile } from '../../plugin/stores/session-document.js';
import { trackPaced } from './paced-events.js';

const [kind, file, keyText] = process.argv.slice(2) as [string, string, string];
const keys = Number(keyText);
const quiet = { warn: () => undefined, error: () => undefined };
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const TICK_MS = 5;
const EVENTS_PER_TICK = 10;
const SECONDS = 10;

async function memoryStoreLike(): Promise<MemorySessionStore> {
  const store = new MemorySessionStore();
  const document = await new SessionDocumentFile(file).read();
  for (const [key, state] of document!.sessions) store.setSession(state, key);
  return store;
}

gc();
const heapBefore = process.memoryUsage().heapUsed;
const start = performance.now();
const store = kind === 'lowdb' ? new LowdbSessionStore({ file }) : await memoryStoreLike();
const session = await createClientSession({ store, checkInterval: 0, logger: quiet, sessionKey: (p) => p.se_la as string });
const startupMs = performance.now() - start;
gc();
const heapPerKey = (process.memoryUsage().heapUsed - heapBefore) / keys;

const core = trackerCore({ base64: true, corePlugins: [session.plugin] });
const compact = store instanceof LowdbSessionStore ? () => void store.compact() : undefined;
const measured = await trackPaced(core, { keys, total: (SECONDS * 1000 * EVENTS_PER_TICK) / TICK_MS, perTick: EVENTS_PER_TICK, tickMs: TICK_MS, midway: compact }, () => session.flush());
const stats = store instanceof LowdbSessionStore ? store.stats() : null;
await session.close();
process.stdout.write(`${JSON.stringify({ startupMs, heapPerKey, ...measured, stats })}\n`);
