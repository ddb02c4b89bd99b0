import { randomUUID } from 'node:crypto';
import { buildStructEvent, trackerCore, type TrackerCore } from '@snowplow/tracker-core';
import { createClientSession, MemorySessionStore, type ClientSession } from '../../plugin/index.js';
import { alternate, gc, median, ratio, ratios, spread, type BenchRow } from './harness.js';

const REQUESTS = 20_000;
const VISITORS = 1_000;
const quiet = { warn: () => undefined, error: () => undefined };

/** A visitor's Cookie header as browser tracker 4.x writes it, with the collector's sp. */
function cookieHeader(): string {
  const now = Math.floor(Date.now() / 1000);
  return `_ga=GA1.1.123.456; _sp_id.1fff=${randomUUID()}.${now - 86_400}.3.${now}.${now - 3600}.${randomUUID()}.${randomUUID()}.${randomUUID()}.${now * 1000}.4; _sp_ses.1fff=*; sp=${randomUUID()}`;
}

function handler(core: TrackerCore): () => void {
  return () => {
    core.track(buildStructEvent({ category: 'shop', action: 'view' }));
    core.track(buildStructEvent({ category: 'shop', action: 'add' }));
  };
}

/**
 * The request path on a memory store, in process (no HTTP, which would dwarf it): 20k requests of 1000
 * visitors, each tracking two events. `middleware()` (cookies parsed, key chosen, browser ids joined)
 * against the same two events inside `run(key, …)` with the key already known.
 */
export async function requestPath(): Promise<BenchRow> {
  const visitors = Array.from({ length: VISITORS }, () => ({ key: `user-${randomUUID()}`, req: { headers: { cookie: cookieHeader() } } }));
  const sessions: Record<'run' | 'middleware', ClientSession> = {
    run: await createClientSession({ store: new MemorySessionStore(), checkInterval: 0, logger: quiet }),
    middleware: await createClientSession({ store: new MemorySessionStore(), checkInterval: 0, logger: quiet }),
  };
  const cores = { run: trackerCore({ base64: true, corePlugins: [sessions.run.plugin] }), middleware: trackerCore({ base64: true, corePlugins: [sessions.middleware.plugin] }) };
  const middleware = sessions.middleware.middleware();
  const times = await alternate(8, ['run', 'middleware'] as const, async (variant) => {
    const track = handler(cores[variant]);
    gc();
    const start = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const visitor = visitors[i % VISITORS]!;
      if (variant === 'run') sessions.run.run(visitor.key, track);
      else middleware(visitor.req, null, track);
    }
    return performance.now() - start;
  });
  for (const session of Object.values(sessions)) await session.close();
  const r = ratios(times.middleware, times.run);
  const perRequestUs = (variant: 'run' | 'middleware') => (median(times[variant]) / REQUESTS) * 1000;
  return {
    case: 'request path, memory store',
    measuredAs: `20k requests of 1000 visitors, 2 events each: middleware() (cookies read, keyed, joined; ${perRequestUs('middleware').toFixed(1)} µs a request) / run(key) with the key known (${perRequestUs('run').toFixed(1)} µs)`,
    result: ratio(median(r)),
    spread: spread(r, ratio),
    target: '<= 1.25',
    met: median(r) <= 1.25 ? 'yes' : 'no',
    data: { requests: REQUESTS, visitors: VISITORS, ratios: r, ms: times },
  };
}
