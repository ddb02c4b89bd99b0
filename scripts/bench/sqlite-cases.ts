import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { v4 as uuidv4 } from 'uuid';
import { SqliteSessionStore } from '../../plugin/index.js';
import { alternate, median, ms, ratio, ratios, spread, type BenchRow } from './harness.js';

const execFileAsync = promisify(execFile);
const CHILD = fileURLToPath(new URL('./sqlite-child.js', import.meta.url));
const MILLION = 1_000_000;
const DAY = 24 * 3600 * 1000;

async function child<T>(args: string[]): Promise<T> {
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', CHILD, ...args], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as T;
}

/**
 * A database of `keys` sessions as the store writes them (its own tables, filled in one transaction). One
 * key in 20 was last active 40 days ago (past the default retention: the checker prunes it), one in 20 is
 * live but 20 minutes idle (past the timeout: the checker ends it); the rest are active now.
 */
export async function writeSqliteStore(file: string, keys: number): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(file + suffix, { force: true });
  const store = new SqliteSessionStore({ file });
  store.open();
  await store.close();
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (f: string) => { prepare(sql: string): { run(...a: unknown[]): unknown }; transaction(fn: () => void): () => void; close(): void };
  const db = new Database(file);
  const insert = db.prepare('INSERT INTO snowplow_client_sessions VALUES (?, ?, ?, NULL, 1, 3, ?, ?, ?, ?, NULL, 0, 0, NULL, ?)');
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < keys; i++) {
      const at = i % 20 === 0 ? now - 40 * DAY : i % 20 === 1 ? now - 20 * 60_000 : now;
      insert.run(`user-${i}`, uuidv4(), uuidv4(), uuidv4(), new Date(at).toISOString(), at, at, at);
    }
  })();
  db.close();
}

interface DelayRun {
  p99Ms: number;
  maxMs: number;
  events: number;
  ended: number;
}

/**
 * The SQLite store at 1M keys: a fresh process's start-up against an empty file; the per-event cost against
 * the memory store (one key, and 1M keys at random; the variants alternate over rounds, and each round's
 * ratio counts), with blocks of indexes and with a transaction per event; the event loop's delay under steady
 * tracking with the checker running, against the memory store's under the same tracking (the noise floor),
 * alternating over rounds.
 */
export async function sqliteStore(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'client-session-bench-'));
  try {
    const big = join(dir, 'million.db');
    const empty = join(dir, 'empty.db');
    await writeSqliteStore(big, MILLION);
    await writeSqliteStore(empty, 0);
    const heap: Record<string, number[]> = { big: [], empty: [] };
    const startup = await alternate(3, ['empty', 'big'] as const, async (variant) => {
      const run = await child<{ startupMs: number; heapMB: number }>(['startup', variant === 'big' ? big : empty]);
      heap[variant]!.push(run.heapMB);
      return run.startupMs;
    });
    const startRatios = ratios(startup.big, startup.empty);
    const perEvent = async (kind: string, keys: number, events: number, block: number) => median((await child<{ perEvent: number[] }>(['events', kind, big, String(keys), String(events), String(block)])).perEvent);
    const one = await alternate(3, ['memory', 'sqlite'] as const, (kind) => perEvent(kind, 1, 50_000, 64), false); // each child warms up itself
    const million = await alternate(3, ['memory', 'sqlite'] as const, (kind) => perEvent(kind, MILLION, 20_000, 64), false);
    const oneTransactionEach = await perEvent('sqlite', 1, 50_000, 1);
    const millionTransactionEach = await perEvent('sqlite', MILLION, 20_000, 1);
    // The delay runs end and prune sessions: each SQLite run gets a fresh copy of one file written just before.
    const pristine = join(dir, 'pristine.db');
    await writeSqliteStore(pristine, MILLION);
    const delays = await alternate(2, ['memory', 'sqlite'] as const, async (kind) => {
      await copyFile(pristine, big);
      for (const suffix of ['-wal', '-shm']) await rm(big + suffix, { force: true });
      return child<DelayRun>(['delay', kind, big, String(MILLION)]);
    }, false);
    const p99 = { sqlite: delays.sqlite.map((d) => d.p99Ms), memory: delays.memory.map((d) => d.p99Ms) };
    const msOf = (values: number[]) => `${median(values).toFixed(1)} ms`;
    return [
      {
        case: 'SQLite store, start-up, 1000k keys',
        measuredAs: `createClientSession in a fresh process on a 1M-key file / on an empty file (${ms(median(startup.big))} / ${ms(median(startup.empty))}); heap growth`,
        result: `${ratio(median(startRatios))}, heap ${median(heap.big!).toFixed(1)} MB (empty file: ${median(heap.empty!).toFixed(1)} MB)`,
        spread: spread(startRatios, ratio),
        target: '<= 1.50, heap independent of keys',
        met: median(startRatios) <= 1.5 && median(heap.big!) < median(heap.empty!) + 2 ? 'yes' : 'no',
        data: { startupMs: startup, heapMB: heap },
      },
      perEventRow('one key', 'one process', one, oneTransactionEach, 1.5),
      perEventRow('1000k keys at random', '1M keys at random, the memory store holding the same keys', million, millionTransactionEach, 2),
      {
        case: 'SQLite store, event-loop delay, 1000k keys',
        measuredAs: `p99 (max), 2000 events/s on random keys for 10 s, the checker every second (it ended ${median(delays.sqlite.map((d) => d.ended))} sessions and pruned idle keys meanwhile); the memory store with the same keys and events, no checker, in the same rounds (the machine's noise floor): ${msOf(p99.memory)}`,
        result: `${msOf(p99.sqlite)} (${median(delays.sqlite.map((d) => d.maxMs)).toFixed(0)} ms)`,
        spread: `${spread(p99.sqlite, (n) => `${n.toFixed(1)} ms`)}; memory ${spread(p99.memory, (n) => `${n.toFixed(1)} ms`)}`,
        target: '<= 5 ms',
        met: median(p99.sqlite) <= 5 ? 'yes' : 'no',
        data: { sqlite: delays.sqlite, memory: delays.memory },
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A per-event row: SQLite / the memory store over alternating rounds (each round's ratio), and a transaction per event. */
function perEventRow(what: string, how: string, runs: { memory: number[]; sqlite: number[] }, perTransaction: number, target: number): BenchRow {
  const us = (n: number) => `${n.toFixed(1)} µs`;
  const memory = median(runs.memory);
  const perRound = ratios(runs.sqlite, runs.memory);
  return {
    case: `SQLite store, per event, ${what}`,
    measuredAs: `struct events, trackerCore base64, ${how}: SQLite / memory store, ${runs.memory.length} alternating rounds (${us(median(runs.sqlite))} / ${us(memory)}); a transaction per event (indexBlock 1): ${us(perTransaction)}`,
    result: ratio(median(perRound)),
    spread: `${spread(perRound, ratio)}; indexBlock 1: ${ratio(perTransaction / memory)}`,
    target: `<= ${target.toFixed(2)}`,
    met: median(perRound) <= target ? 'yes' : 'no',
    data: { perTransactionUs: perTransaction, ratios: perRound, rounds: runs },
  };
}
