import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStructEvent, trackerCore, type SelfDescribingJson, type TrackerCore } from '@snowplow/tracker-core';
import { v4 as uuidv4 } from 'uuid';
import { createClientSession, LowdbSessionStore, MemorySessionStore, type ClientSession } from '../../plugin/index.js';
import { CLIENT_SESSION_SCHEMA } from '../../plugin/schema-uris.js';
import { alternate, gc, median, ms, ratio, ratios, spread, type BenchRow } from './harness.js';
import { measureLargeStore, writeLargeStore } from './large-store.js';

const EVENTS = 100_000;
const ROUNDS = 6;
const quiet = { warn: () => undefined, error: () => undefined };

/** A static entity of the same shape and size as the plugin's. */
export const STATIC_ENTITY: SelfDescribingJson[] = [
  {
    schema: CLIENT_SESSION_SCHEMA,
    data: {
      userId: uuidv4(),
      sessionId: uuidv4(),
      sessionIndex: 1,
      eventIndex: 1,
      previousSessionId: null,
      storageMechanism: 'LOCAL_STORAGE',
      firstEventId: uuidv4(),
      firstEventTimestamp: '2026-01-01T00:00:00.000Z',
    },
  },
];

function trackMany(core: TrackerCore, events: number, label?: (i: number) => string, context?: SelfDescribingJson[]): void {
  for (let i = 0; i < events; i++) core.track(buildStructEvent({ category: 'bench', action: 'tick', label: label?.(i) }), context);
}

async function withTemp<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'client-session-bench-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Times `events` tracked through a fresh trackerCore (base64 on), with the plugin of `session` if given. */
async function timeRun(session: ClientSession | null, label?: (i: number) => string, context?: SelfDescribingJson[]): Promise<number> {
  const core = trackerCore({ base64: true, corePlugins: session === null ? [] : [session.plugin] });
  gc();
  const start = performance.now();
  trackMany(core, EVENTS, label, context);
  if (session !== null) await session.flush(); // the lowdb case counts until the state is on disk
  return performance.now() - start;
}

export async function pluginOverhead(): Promise<BenchRow[]> {
  return withTemp(async (dir) => {
    let file = 0;
    const variants = ['bare', 'static', 'memory', 'lowdb'] as const;
    const times = await alternate(ROUNDS, variants, async (variant) => {
      if (variant === 'bare') return timeRun(null);
      if (variant === 'static') return timeRun(null, undefined, STATIC_ENTITY);
      const store = variant === 'memory' ? new MemorySessionStore() : new LowdbSessionStore({ file: join(dir, `s${file++}.json`) });
      const session = await createClientSession({ store, checkInterval: 0, logger: quiet });
      const elapsed = await timeRun(session);
      await session.close();
      return elapsed;
    });
    const row = (store: 'memory' | 'lowdb', base: 'bare' | 'static', target: number): BenchRow => {
      const r = ratios(times[store], times[base]);
      const caseName =
        base === 'bare' ? `plugin overhead, ${store} store` : `plugin's own cost, ${store} store`;
      const measuredAs =
        base === 'bare'
          ? `100k struct events, trackerCore base64: plugin on / off${store === 'lowdb' ? ' (until flush)' : ''}`
          : `same, plugin on / the same entity attached statically (no plugin)`;
      return {
        case: caseName,
        measuredAs,
        result: ratio(median(r)),
        spread: spread(r, ratio),
        target: `<= ${target.toFixed(2)}`,
        met: median(r) <= target ? 'yes' : 'no',
        data: { ratios: r, ms: { [store]: times[store], [base]: times[base] } },
      };
    };
    return [row('memory', 'bare', 1.1), row('memory', 'static', 1.1), row('lowdb', 'bare', 1.15), row('lowdb', 'static', 1.15)];
  });
}

export async function usersAtScale(): Promise<BenchRow[]> {
  return withTemp(async (dir) => {
    const rows: BenchRow[] = [];
    for (const [storeKind, keyCounts] of [['memory', [1, 10_000, 100_000]], ['lowdb', [1, 10_000]]] as const) {
      const sessions = new Map<number, ClientSession>();
      for (const keys of keyCounts) {
        const store = storeKind === 'memory' ? new MemorySessionStore() : new LowdbSessionStore({ file: join(dir, `users-${keys}.json`) });
        const session = await createClientSession({ store, checkInterval: 0, logger: quiet, sessionKey: (p) => p.se_la as string });
        // Every key has its session before timing: what is measured is the steady state of a server.
        trackMany(trackerCore({ base64: true, corePlugins: [session.plugin] }), keys, (i) => `user-${i}`);
        await session.flush();
        sessions.set(keys, session);
      }
      const times = await alternate(3, keyCounts.map(String), (keys) => timeRun(sessions.get(Number(keys))!, (i) => `user-${i % Number(keys)}`));
      for (const keys of keyCounts.slice(1)) {
        const r = ratios(times[String(keys)]!, times['1']!);
        rows.push({
          case: `users at scale, ${storeKind}`,
          measuredAs: `per-event time with ${keys / 1000}k keys / 1 key (100k events${storeKind === 'lowdb' ? ', until flush' : ''})`,
          result: ratio(median(r)),
          spread: spread(r, ratio),
          target: '<= 1.50',
          met: median(r) <= 1.5 ? 'yes' : 'no',
          data: { keys, ratios: r, ms: { one: times['1'], many: times[String(keys)] } },
        });
      }
      for (const session of sessions.values()) await session.close();
    }
    return rows;
  });
}

/** Server-like traffic: one event per event-loop turn, 10k users, on lowdb; what reaches the disk. */
export async function persistenceCost(): Promise<BenchRow> {
  return withTemp(async (dir) => {
    const store = new LowdbSessionStore({ file: join(dir, 'sessions.json') });
    const session = await createClientSession({ store, checkInterval: 0, logger: quiet, sessionKey: (p) => p.se_la as string });
    const core = trackerCore({ base64: true, corePlugins: [session.plugin] });
    const start = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      core.track(buildStructEvent({ category: 'bench', action: 'tick', label: `user-${i % 10_000}` }));
      if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve)); // requests arrive over time
    }
    await session.flush();
    const elapsed = performance.now() - start;
    const stats = store.stats();
    await session.close();
    const mb = stats.bytesWritten / 1024 / 1024;
    return {
      case: 'persistence cost, lowdb, 10k keys',
      measuredAs: `100k events, one event-loop turn per 10 events (${ms(elapsed)})`,
      result: `${stats.writes} file writes, ${mb.toFixed(1)} MB, ${stats.reservations} journal appends`,
      spread: '',
      target: 'no whole-store rewrite per event; writes coalesced',
      met: stats.writes < EVENTS / 100 ? 'yes' : 'no',
      data: { ...stats, elapsedMs: elapsed, events: EVENTS },
    };
  });
}

/**
 * Large lowdb stores (100k and 1M keys): start-up, heap per key, and the event loop's p99 delay under
 * steady tracking with one compaction, against the memory store on the same sessions and traffic.
 */
export async function largeStore(): Promise<BenchRow[]> {
  return withTemp(async (dir) => {
    const rows: BenchRow[] = [];
    for (const keys of [100_000, 1_000_000]) {
      const file = join(dir, `large-${keys}.json`);
      const bytes = await writeLargeStore(file, keys);
      const memory = await measureLargeStore('memory', file, keys);
      const lowdb = await measureLargeStore('lowdb', file, keys);
      const label = `${keys / 1000}k keys`;
      const startTarget = keys === 100_000 ? 1000 : 5000;
      rows.push(
        {
          case: `large store, lowdb, ${label}`,
          measuredAs: `start-up: createClientSession with sessionKey on a ${(bytes / 1024 / 1024).toFixed(0)} MB file (fresh process)`,
          result: `${ms(lowdb.startupMs)}, ${Math.round(lowdb.heapPerKey)} B heap per key`,
          spread: '',
          target: `<= ${startTarget / 1000} s, memory reported`,
          met: lowdb.startupMs <= startTarget ? 'yes' : 'no',
          data: { keys, bytes, lowdb, memory },
        },
        {
          case: `large store, lowdb, ${label}`,
          measuredAs: `event-loop delay p99 (max), 2000 events/s for 10 s with one compaction; memory store ${memory.p99Ms.toFixed(1)} ms (${memory.maxMs.toFixed(0)} ms)`,
          result: `${lowdb.p99Ms.toFixed(1)} ms (${lowdb.maxMs.toFixed(0)} ms)`,
          spread: '',
          target: '<= 20 ms',
          met: lowdb.p99Ms <= 20 ? 'yes' : 'no',
          data: { keys, lowdb, memory },
        },
      );
    }
    return rows;
  });
}
