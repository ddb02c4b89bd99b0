/** Measures `createClientSession` on a big lowdb file in a fresh process: prints {ms, heapMB, rssMB}. */
import { createClientSession, LowdbSessionStore } from '../../plugin/index.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
gc();
const heapBefore = process.memoryUsage().heapUsed;
const start = performance.now();
const session = await createClientSession({ store: new LowdbSessionStore({ file: process.argv[2]! }), checkInterval: 0, sessionKey: (p) => p.se_la as string });
const ms = performance.now() - start;
gc();
const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
const rssMB = process.memoryUsage().rss / 1024 / 1024;
await session.close();
process.stdout.write(`${JSON.stringify({ ms, heapMB, rssMB })}\n`);
