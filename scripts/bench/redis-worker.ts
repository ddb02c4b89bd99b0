/**
 * One of the processes of the shared-store benchmark: `events` events for `users` users, each a request
 * (`load()` then `track()`), on the Redis store at `url`, or on a memory store for `memory`. Prints ms.
 */
import { buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import { createClientSession, MemorySessionStore, RedisSessionStore } from '../../plugin/index.js';

const [target, events, users] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const store = target === 'memory' ? new MemorySessionStore() : new RedisSessionStore({ url: target, prefix: `bench:${Date.now()}:` });
const session = await createClientSession({ store, checkInterval: 0, sessionKey: (p) => p.se_la as string });
const core = trackerCore({ base64: true, corePlugins: [session.plugin] });
const start = performance.now();
for (let i = 0; i < events; i++) {
  const user = `user-${i % users}`;
  await session.load(user, 1);
  core.track(buildStructEvent({ category: 'bench', action: 'request', label: user }));
}
await session.flush();
const elapsed = performance.now() - start;
await session.close();
process.stdout.write(`${elapsed}\n`);
