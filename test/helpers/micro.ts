import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newTracker, type Tracker } from '@snowplow/node-tracker';
import type { ClientSession } from '../../plugin/index.js';
import type { BadEvent, GoodEvent } from '../../plugin/collector/index.js';

/** A real node-tracker that sends to `endpoint` over HTTP (no customFetch). */
export function httpTracker(endpoint: string, session?: ClientSession, encodeBase64 = true): Tracker {
  const tracker = newTracker({ namespace: 'e2e', appId: 'client-session-e2e', encodeBase64 }, { endpoint, bufferSize: 1 });
  if (session !== undefined) tracker.addPlugin(session);
  return tracker;
}

/** Micro's API, read over HTTP. */
export function micro(url: string) {
  const get = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    all: () => get<{ total: number; good: number; bad: number }>('/micro/all'),
    good: (filters?: Record<string, unknown>) => get<GoodEvent[]>('/micro/good', filters),
    bad: () => get<BadEvent[]>('/micro/bad'),
    reset: () => get<{ total: number }>('/micro/reset'),
  };
}

/**
 * The collector command in its own process (`heapMb`: a small heap, which running out of would kill it).
 * `lines()` holds what it printed so far, per stream; the banner may be on either (stderr with -j/-t).
 */
export async function collectorProcess(args: string[], heapMb = 256) {
  const script = fileURLToPath(new URL('../../dist/scripts/collector.js', import.meta.url));
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, script, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const printed = { stdout: '', stderr: '' };
  const url = await new Promise<string>((resolve, reject) => {
    for (const name of ['stdout', 'stderr'] as const) {
      child[name]!.setEncoding('utf8').on('data', (d: string) => {
        printed[name] += d;
        const listening = /listening on (\S+)/.exec(d);
        if (listening !== null) resolve(listening[1]!);
      });
    }
    void exited.then((code) => reject(new Error(`collector exited (${code}) before listening: ${printed.stderr}`)));
  });
  const lines = (name: 'stdout' | 'stderr') => printed[name].split('\n').filter((line) => line !== '');
  return { url, child, lines, stop: async () => (child.exitCode === null ? (child.kill('SIGTERM'), exited) : child.exitCode) };
}
