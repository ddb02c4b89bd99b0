/**
 * One app process of the shared-store benchmark: `requests` requests for `users` users, `concurrency` at
 * a time, each `load(user)` then two `track()`s in `run(user)`, on the Redis store at `url` (a memory
 * store for `memory`, a SQLite store for `sqlite:<file>`). Starts at `startAt` (epoch ms) with the other processes; prints
 * `{ elapsedMs, loadMs: [...] }`.
 */
import { buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import { createClientSession, MemorySessionStore, RedisSessionStore, SqliteSessionStore } from '../../plugin/index.js';

const [target, requests, users, concurrency, startAt] = [process.argv[2]!, ...process.argv.slice(3, 7).map(Number)] as [string, number, number, number, number];
const store =
  target === 'memory'
    ? new MemorySessionStore()
    : target.startsWith('sqlite:')
      ? new SqliteSessionStore({ file: target.slice('sqlite:'.length) })
      : new RedisSessionStore({ url: target, prefix: `bench:${startAt}:` });
const session = await createClientSession({ store, checkInterval: 0, loadTimeout: 10_000 });
const core = trackerCore({ base64: true, corePlugins: [session.plugin] });
const loadMs: number[] = [];
let next = 0;

async function serve(): Promise<void> {
  while (next < requests) {
    const user = `user-${next++ % users}`;
    const before = performance.now();
    await session.load(user, 2);
    loadMs.push(performance.now() - before);
    session.run(user, () => {
      core.track(buildStructEvent({ category: 'bench', action: 'request' }));
      core.track(buildStructEvent({ category: 'bench', action: 'response' }));
    });
  }
}

await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
const start = performance.now();
await Promise.all(Array.from({ length: concurrency }, serve));
await session.flush();
const elapsedMs = performance.now() - start;
await session.close();
process.stdout.write(`${JSON.stringify({ elapsedMs, loadMs })}\n`);
