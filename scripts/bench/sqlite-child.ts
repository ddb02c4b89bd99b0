/**
 * One SQLite-store measurement in a fresh process (prints JSON):
 *   node sqlite-child.js startup <file>                                  createClientSession's time and heap growth
 *   node sqlite-child.js events <memory|sqlite> <file> <keys> <events> <indexBlock>   µs per event, 5 rounds after a warm-up
 *   node sqlite-child.js delay <memory|sqlite> <file> <keys>             event-loop delay at 2000 events/s for 10 s on random
 *                                                                        keys; SQLite with the checker every second (it ends and
 *                                                                        prunes), the memory store (same keys) without: the noise floor
 */
import { buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import { v4 as uuidv4 } from 'uuid';
import { createClientSession, MemorySessionStore, SqliteSessionStore, type SessionStore } from '../../plugin/index.js';
import { trackPaced } from './paced-events.js';

const [mode, ...args] = process.argv.slice(2) as [string, ...string[]];
const quiet = { warn: () => undefined, error: () => undefined };
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const keyed = { checkInterval: 0, logger: quiet, sessionKey: (p: Record<string, unknown>) => p.se_la as string };

function memoryStore(keys: number): MemorySessionStore {
  const store = new MemorySessionStore();
  const now = Date.now();
  for (let i = 0; i < keys; i++) {
    store.setSession({ userId: uuidv4(), sessionId: uuidv4(), previousSessionId: null, sessionIndex: 1, eventIndex: 3, firstEventId: uuidv4(), firstEventTimestamp: new Date(now).toISOString(), startedAt: now, lastActivityAt: now, lastUid: null }, `user-${i}`);
  }
  return store;
}

if (mode === 'startup') {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  const session = await createClientSession({ store: new SqliteSessionStore({ file: args[0]! }), ...keyed });
  const startupMs = performance.now() - start;
  gc();
  const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  await session.close();
  process.stdout.write(`${JSON.stringify({ startupMs, heapMB })}\n`);
} else if (mode === 'events') {
  const [kind, file, keyText, eventText, block] = args as [string, string, string, string, string];
  const [keys, events] = [Number(keyText), Number(eventText)];
  const store: SessionStore = kind === 'memory' ? memoryStore(keys) : new SqliteSessionStore({ file, indexBlock: Number(block) });
  const session = await createClientSession({ store, ...keyed });
  const core = trackerCore({ base64: true, corePlugins: [session.plugin] });
  const labels = Array.from({ length: events }, () => `user-${Math.floor(Math.random() * keys)}`);
  const perEvent: number[] = [];
  for (let round = 0; round < 6; round++) {
    gc();
    const start = performance.now();
    for (let i = 0; i < events; i++) core.track(buildStructEvent({ category: 'bench', action: 'tick', label: labels[i] }));
    await session.flush();
    if (round > 0) perEvent.push(((performance.now() - start) * 1000) / events);
  }
  await session.close();
  process.stdout.write(`${JSON.stringify({ perEvent })}\n`);
} else if (mode === 'delay') {
  const [kind, file, keyText] = args as [string, string, string];
  const keys = Number(keyText);
  let ended = 0;
  const store = kind === 'memory' ? memoryStore(keys) : new SqliteSessionStore({ file });
  const checker = kind === 'memory' ? {} : { checkInterval: 1, retention: 30 * 24 * 3600 };
  const session = await createClientSession({ store, ...keyed, ...checker, onSessionEnd: () => void ended++ });
  gc();
  const core = trackerCore({ base64: true, corePlugins: [session.plugin] });
  const measured = await trackPaced(core, { keys, total: 20_000 }, async () => undefined);
  await session.close();
  process.stdout.write(`${JSON.stringify({ ...measured, ended })}\n`);
}
