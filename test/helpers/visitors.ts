import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';

/** A browser as its cookies show it: the browser tracker's id cookie (and session cookie), the collector's sp. */
export interface FakeBrowser {
  duid: string;
  sid: string;
  visit: number;
  nuid: string;
  /** The Cookie header: `_sp_id.1fff` (+ `_sp_ses.1fff` while live) and `sp`. */
  cookie: string;
}

/**
 * A visitor's cookies in the format browser tracker 4.x writes (checked against the real tracker in
 * test/browser-join.test.ts). `anonymous`: the browser's anonymous tracking (no domain user id, no sp).
 */
export function fakeBrowser({ live = true, anonymous = false, visit = 2 }: { live?: boolean; anonymous?: boolean; visit?: number } = {}): FakeBrowser {
  const duid = anonymous ? '' : randomUUID();
  const sid = randomUUID();
  const nuid = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const id = `${duid}.${now - 86_400}.${visit}.${now}.${now - 3600}.${sid}.${randomUUID()}.${randomUUID()}.${now * 1000 - 5000}.3`;
  const cookies = [`_sp_id.1fff=${id}`, ...(live ? ['_sp_ses.1fff=*'] : []), ...(anonymous ? [] : [`sp=${nuid}`])];
  return { duid, sid, visit, nuid, cookie: cookies.join('; ') };
}

/** A node:http server on a free loopback port. */
export async function listen(handler: RequestListener): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A yield of random length: other requests' code runs in between. */
export const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
