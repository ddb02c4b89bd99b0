// Sessions shared by the workers of a node:cluster app through one SQLite file (see README: Stores).
//   node examples/sqlite-cluster.mjs
// The primary forks 4 workers; each serves HTTP with the plugin's middleware on the same SqliteSessionStore.
// The primary sends 24 requests for 3 users over new connections (the cluster spreads them over the
// workers) and prints which worker served each and the session it saw: one session per user, whichever
// worker serves it, its event indexes never repeated. The database lives in a temp folder, removed at the end.
import cluster from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (cluster.isPrimary) {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-cluster-'));
  const workers = Array.from({ length: 4 }, () => cluster.fork({ SESSIONS_DB: join(dir, 'sessions.db') }));
  const port = await new Promise((resolve) => {
    let up = 0;
    cluster.on('listening', (_w, address) => ++up === workers.length && resolve(address.port));
  });
  const get = (path) =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve(JSON.parse(body)));
      });
      req.on('error', reject).end();
    });
  console.log('user   worker  sessionId  sessionIndex  eventIndex');
  for (let i = 0; i < 24; i++) {
    const user = ['ann', 'bob', 'cid'][i % 3];
    const { pid, entity } = await get(`/checkout?user=${user}`);
    console.log(`${user.padEnd(6)} ${String(pid).padEnd(7)} ${entity.sessionId.slice(0, 8)}   ${String(entity.sessionIndex).padEnd(13)} ${entity.eventIndex}`);
  }
  for (const worker of workers) worker.send('exit');
  await Promise.all(workers.map((w) => new Promise((resolve) => w.on('exit', resolve))));
  rmSync(dir, { recursive: true, force: true });
} else {
  const { buildStructEvent, trackerCore } = await import('@snowplow/tracker-core');
  const { createClientSession, SqliteSessionStore } = await import('snowplow-client-session');
  const session = await createClientSession({ store: new SqliteSessionStore({ file: process.env.SESSIONS_DB }) });
  const tracker = trackerCore({ corePlugins: [session.plugin] }); // in an app: newTracker(...) and tracker.addPlugin(session)
  const middleware = session.middleware((req) => new URL(req.url, 'http://localhost').searchParams.get('user') ?? undefined);
  const server = createServer((req, res) =>
    middleware(req, res, () => {
      tracker.track(buildStructEvent({ category: 'shop', action: 'checkout' }));
      res.end(JSON.stringify({ pid: process.pid, entity: session.getSessionContext(new URL(req.url, 'http://localhost').searchParams.get('user')) }));
    }),
  );
  server.listen(0, '127.0.0.1');
  process.on('message', async () => {
    server.close();
    await session.close();
    process.exit(0);
  });
}
