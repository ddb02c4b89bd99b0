/**
 * Steady tracking for event-loop delay measurements: `perTick` struct events every `tickMs` on random keys
 * (`user-0` … `user-<keys-1>`, in `se_la`), `total` in all, while `monitorEventLoopDelay` records how long
 * the event loop was held up.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildStructEvent, type TrackerCore } from '@snowplow/tracker-core';

export interface PacedRun {
  keys: number;
  total: number;
  perTick?: number;
  tickMs?: number;
  /** Called once when half the events are sent (e.g. a compaction in the middle). */
  midway?: () => void;
}

/** Resolves, once `drain()` has settled, with the event loop's delay p99 and max (ms) and the events sent. */
export async function trackPaced(core: TrackerCore, run: PacedRun, drain: () => Promise<void>): Promise<{ p99Ms: number; maxMs: number; events: number }> {
  const { keys, total, perTick = 10, tickMs = 5, midway } = run;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let sent = 0;
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) core.track(buildStructEvent({ category: 'bench', action: 'tick', label: `user-${Math.floor(Math.random() * keys)}` }));
      sent += perTick;
      if (sent === Math.floor(total / perTick / 2) * perTick) midway?.();
      if (sent >= total) {
        clearInterval(timer);
        done();
      }
    }, tickMs);
  });
  await drain();
  delay.disable();
  return { p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6, events: sent };
}
