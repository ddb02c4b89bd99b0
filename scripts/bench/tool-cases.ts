import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStructEvent, newTracker } from '@snowplow/node-tracker';
import { newInMemoryEventStore } from '@snowplow/tracker-core';
import { v4 as uuidv4 } from 'uuid';
import { createClientSession, MemorySessionStore } from '../../plugin/index.js';
import { CLIENT_SESSION_SCHEMA } from '../../plugin/schema-uris.js';
import { alternate, median, ratio, ratios, spread, type BenchRow } from './harness.js';

const SCRIPTS = fileURLToPath(new URL('..', import.meta.url)); // dist/scripts/
const USAGE_HOOK = fileURLToPath(new URL('./report-usage.js', import.meta.url));

export interface ChildRun {
  /** Wall time. */
  ms: number;
  /** CPU time of all the process's threads. */
  cpuMs: number;
  maxRssMB: number;
  stdout: string;
}

/** Runs a built script as a child process; its time includes start-up, like a user's run. */
export function runNode(script: string, args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--import', USAGE_HOOK, join(SCRIPTS, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsed = performance.now() - start;
      const usage = /bench-max-rss-kb=(\d+) bench-cpu-us=(\d+)/.exec(stderr);
      if (usage === null || (code !== 0 && code !== 1)) return reject(new Error(`${script} exited ${code}: ${stderr.slice(0, 500)}`));
      resolve({ ms: elapsed, cpuMs: Number(usage[2]) / 1000, maxRssMB: Number(usage[1]) / 1024, stdout });
    });
  });
}

/**
 * node-tracker batches over loopback to the collector in its own process, until all are validated; beside
 * the rate, the collector's own validation cost per event (`validationMicros`, from `collectorValidationCost`).
 */
export async function collectorThroughput(validationMicros: number): Promise<BenchRow> {
  const events = 20_000;
  const collector = spawn(process.execPath, [join(SCRIPTS, 'collector.js'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      collector.stdout.setEncoding('utf8').on('data', (d: string) => {
        const found = /listening on (http:\/\/\S+)/.exec(d);
        if (found) resolve(found[1]!);
      });
      collector.on('exit', (code) => reject(new Error(`collector exited ${code}`)));
    });
    const perSecond: number[] = [];
    for (let round = 0; round < 3; round++) {
      await fetch(`${url}/micro/reset`);
      const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0 });
      // tracker-core's default in-memory queue keeps 1000 events and drops the oldest: size it for the run.
      const eventStore = newInMemoryEventStore({ maxSize: events });
      const tracker = newTracker({ namespace: 'bench', appId: 'bench' }, { endpoint: url, bufferSize: 100, eventStore });
      tracker.addPlugin(session);
      const start = performance.now();
      for (let i = 0; i < events; i++) {
        tracker.track(buildStructEvent({ category: 'bench', action: 'tick' }));
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve)); // let the emitter send
      }
      // node-tracker's flush() returns at once while another flush is in flight: flush until all arrived.
      const deadline = performance.now() + 60_000;
      for (;;) {
        await tracker.flush();
        const all = (await (await fetch(`${url}/micro/all`)).json()) as { total: number; bad: number };
        if (all.bad > 0) throw new Error(`the collector found ${all.bad} bad events`);
        if (all.total >= events) break;
        if (performance.now() > deadline) throw new Error(`only ${all.total} of ${events} events reached the collector in 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      perSecond.push(events / ((performance.now() - start) / 1000));
    }
    const rate = median(perSecond);
    const perEvent = 1e6 / rate;
    return {
      case: 'collector',
      measuredAs: '20k events from node-tracker (batches of 100, plugin on) over loopback, validated end to end; the validation (validatePayload) per event',
      result: `${Math.round(rate)} events/s (${perEvent.toFixed(0)} µs an event), validation ${validationMicros.toFixed(1)} µs an event (${((validationMicros / perEvent) * 100).toFixed(1)}%)`,
      spread: spread(perSecond, (n) => `${Math.round(n)}/s`),
      target: 'reported',
      met: 'n/a',
      data: { eventsPerSecond: perSecond, validationMicrosPerEvent: validationMicros },
    };
  } finally {
    collector.kill('SIGTERM');
  }
}

/**
 * The collector's event store at its cap: storing 200k events while evicting the oldest (cap 10k) against
 * storing them below the cap (O(1) eviction means the two take about as long).
 */
export async function collectorEviction(): Promise<BenchRow> {
  const { EventCache } = await import('../../plugin/collector/event-cache.js');
  const events = 200_000;
  const json = JSON.stringify({ rawEvent: { parameters: { e: 'pv', url: 'https://example.com/'.padEnd(300, 'x') } } });
  const event = { eventType: 'page_view', schema: null, contexts: [] } as never;
  const row = { collector_tstamp: '2026-01-01T00:00:00.000Z', event: 'page_view', app_id: 'bench' };
  const times = await alternate(5, ['below', 'atCap'] as const, async (variant) => {
    const cache = new EventCache(variant === 'below' ? events : 10_000, 1024 ** 3);
    const start = performance.now();
    for (let i = 0; i < events; i++) cache.addGood(event, json, row, 80);
    return performance.now() - start;
  });
  const r = ratios(times.atCap, times.below);
  return {
    case: 'collector eviction at the cap',
    measuredAs: '200k events stored at the cap (10k kept, the oldest evicted) / below the cap',
    result: ratio(median(r)),
    spread: spread(r, ratio),
    target: '<= 2.0',
    met: median(r) <= 2 ? 'yes' : 'no',
    data: { ratios: r, ms: times },
  };
}

/**
 * 4 app processes on one redis-server, each 5000 requests (load + 2 tracks) for 1000 users, 8 at a time:
 * requests/s across the processes and load() latency, with Redis's default `appendfsync everysec` and with
 * `always`; the same processes on a memory store each are the baseline. With `everysec`, the same processes
 * on one SQLite file (a new one per run) alternate with them, for the SQLite store's row.
 */
export async function sharedStore(): Promise<BenchRow[]> {
  const { startRedis } = await import('../lib/redis-server.js');
  const dir = await mkdtemp(join(tmpdir(), 'client-session-bench-'));
  let sqliteRuns = 0;
  const processes = 4;
  const requests = 5000;
  const runAll = async (target: string) => {
    const startAt = Date.now() + 500; // every process is up before the first request
    const args = [target, String(requests), '1000', '8', String(startAt)];
    const runs = await Promise.all(Array.from({ length: processes }, () => runNode('bench/redis-worker.js', args)));
    const results = runs.map((run) => JSON.parse(run.stdout) as { elapsedMs: number; loadMs: number[] });
    return { perSecond: (processes * requests) / (Math.max(...results.map((r) => r.elapsedMs)) / 1000), loadMs: results.flatMap((r) => r.loadMs) };
  };
  const rows: BenchRow[] = [];
  for (const appendfsync of ['everysec', 'always'] as const) {
    const redis = await startRedis({ appendfsync });
    try {
      const latencies: number[] = [];
      const everysec = appendfsync === 'everysec';
      const variants = everysec ? (['memory', 'redis', 'sqlite'] as const) : (['memory', 'redis'] as const);
      const rates = (await alternate(3, variants, async (variant) => {
        const run = await runAll(variant === 'memory' ? 'memory' : variant === 'sqlite' ? `sqlite:${join(dir, `shared-${sqliteRuns++}.db`)}` : redis.url);
        if (variant === 'redis') latencies.push(...run.loadMs);
        return run.perSecond;
      })) as Record<'memory' | 'redis' | 'sqlite', number[]>;
      const rate = median(rates.redis);
      const r = ratios(rates.redis, rates.memory);
      const [p50, p99] = [percentile(latencies, 0.5), percentile(latencies, 0.99)];
      rows.push({
        case: `Redis store, 4 processes, appendfsync ${appendfsync}`,
        measuredAs: '4 x 5000 requests (load + 2 tracks, 8 in flight per process) for 1000 users: requests/s; load() p50/p99; requests/s / same on a memory store',
        result: `${Math.round(rate)} requests/s, load() p50 ${p50.toFixed(2)} ms p99 ${p99.toFixed(2)} ms, ${ratio(median(r))} of memory`,
        spread: spread(rates.redis, (n) => `${Math.round(n)}/s`),
        target: everysec ? '>= 5000 requests/s' : 'reported',
        met: everysec ? (rate >= 5000 ? 'yes' : 'no') : 'n/a',
        data: { requestsPerSecond: rates.redis, memoryRequestsPerSecond: rates.memory, ratios: r, loadP50Ms: p50, loadP99Ms: p99 },
      });
      if (everysec) rows.push(sqliteSharedRow(rates.sqlite, rates.redis, rates.memory));
    } finally {
      await redis.stop();
    }
  }
  await rm(dir, { recursive: true, force: true });
  return rows;
}

function sqliteSharedRow(sqlite: number[], redis: number[], memory: number[]): BenchRow {
  const r = ratios(sqlite, redis);
  return {
    case: 'SQLite store, 4 processes, one file',
    measuredAs: 'the Redis case\'s work (4 x 5000 requests, load + 2 tracks, 1000 users) on one SQLite file: requests/s; / the Redis store (everysec) in the same rounds',
    result: `${Math.round(median(sqlite))} requests/s, ${ratio(median(r))} of Redis, ${ratio(median(ratios(sqlite, memory)))} of memory`,
    spread: spread(sqlite, (n) => `${Math.round(n)}/s`),
    target: '>= 2.0 x Redis',
    met: median(r) >= 2 ? 'yes' : 'no',
    data: { requestsPerSecond: sqlite, redisRequestsPerSecond: redis, ratios: r },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/**
 * The queries behind the UI at 100k stored events, against one bare pass over them (the least any query
 * that counts its matches must do): a page of `POST /micro/events` filtered on `app_id`, one sorted by a
 * text column, and `/micro/sessions`. The rows are what the collector stores for a tracker's struct event
 * with its `client_session` entity; 1000 users, 10 apps.
 */
export async function collectorQueries(): Promise<BenchRow[]> {
  const { EventCache } = await import('../../plugin/collector/event-cache.js');
  const { runEventsQuery, parseEventsQuery } = await import('../../plugin/collector/event-query.js');
  const { sessionTimelines } = await import('../../plugin/collector/session-timeline.js');
  const { shreddedColumn } = await import('../../plugin/collector/enriched-event.js');
  const events = 100_000;
  const column = shreddedColumn('contexts_', CLIENT_SESSION_SCHEMA)!;
  const cache = new EventCache(events, 2 ** 40);
  const users = Array.from({ length: 1000 }, () => uuidv4());
  const event = { eventType: 'struct', schema: null, contexts: [CLIENT_SESSION_SCHEMA] } as never;
  for (let i = 0; i < events; i++) {
    const time = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
    const entity = { userId: users[i % 1000], sessionId: `s-${i % 3000}`, sessionIndex: 1 + (i % 3), eventIndex: Math.floor(i / 3000) + 1, storageMechanism: 'SQLITE', _schema_version: CLIENT_SESSION_SCHEMA };
    const row = { app_id: `app-${i % 10}`, platform: 'srv', collector_tstamp: time, dvce_created_tstamp: time, event: 'struct', event_id: uuidv4(), se_category: 'shop', se_action: `action-${i % 97}`, [column]: [entity] };
    cache.addGood(event, '{}', row, 600);
  }
  const variants = ['scan', 'filtered', 'sorted', 'sessions'] as const;
  const filtered = parseEventsQuery({ page: 3, pageSize: 50, filters: [{ column: 'app_id', value: 'APP-7' }] });
  const sorted = parseEventsQuery({ page: 3, pageSize: 50, sorting: { column: 'se_action', desc: false } });
  const times = await alternate(5, variants, async (variant) => {
    const start = performance.now();
    if (variant === 'scan') {
      let n = 0;
      for (const stored of cache.events()) n += stored.valid ? 1 : 0;
      if (n !== events) throw new Error('scan lost events');
    } else if (variant === 'filtered') runEventsQuery(cache.events(), filtered);
    else if (variant === 'sorted') runEventsQuery(cache.events(), sorted);
    else sessionTimelines(cache.events());
    return performance.now() - start;
  });
  const row = (variant: 'filtered' | 'sorted' | 'sessions', what: string, target: number): BenchRow => {
    const r = ratios(times[variant], times.scan);
    return {
      case: `collector query: ${what}`,
      measuredAs: `at 100k stored events (median ${median(times[variant]).toFixed(0)} ms) / one bare pass over them (${median(times.scan).toFixed(0)} ms)`,
      result: ratio(median(r)),
      spread: spread(r, ratio),
      target: `<= ${target.toFixed(1)}`,
      met: median(r) <= target ? 'yes' : 'no',
      data: { ratios: r, ms: times },
    };
  };
  return [row('filtered', 'a page filtered on app_id', 10), row('sorted', 'a page sorted by se_action', 40), row('sessions', '/micro/sessions', 40)];
}
