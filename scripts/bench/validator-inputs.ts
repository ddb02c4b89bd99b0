/**
 * The validator benchmark's inputs: NDJSON files of self-describing entities, made from a seeded generator
 * so every run (and the raw loop's count of valid lines) sees the same lines.
 */
import { createWriteStream } from 'node:fs';
import { CLIENT_SESSION_SCHEMA } from '../../plugin/schema-uris.js';

const WEB_PAGE = 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0';
const LINK_CLICK = 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1';
const PRODUCT = 'iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0';

/** A small seeded generator (mulberry32): the same lines on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(next: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(next() * 4)]}${hex(3)}-${hex(12)}`;
}

function clientSession(next: () => number, i: number): unknown {
  return {
    schema: CLIENT_SESSION_SCHEMA,
    data: {
      userId: uuid(next),
      sessionId: uuid(next),
      sessionIndex: 1 + (i % 50),
      eventIndex: i % 1000,
      previousSessionId: i % 3 === 0 ? null : uuid(next),
      storageMechanism: 'LOCAL_STORAGE',
      firstEventId: uuid(next),
      firstEventTimestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    },
  };
}

/** Prices in cents, written as JavaScript prints them (19.99, 5.5, 120): every one a multiple of 0.01. */
const price = (next: () => number) => Math.floor(next() * 100_000) / 100;

const LINE_MAKERS: Array<(next: () => number, i: number) => unknown> = [
  clientSession,
  (next) => ({ schema: WEB_PAGE, data: { id: uuid(next) } }),
  (next, i) => ({
    schema: LINK_CLICK,
    data: { targetUrl: `https://shop.example.com/products/${i % 997}?ref=home`, elementId: `link-${i % 50}`, elementClasses: ['nav', 'item'], elementTarget: '_self' },
  }),
  (next, i) => ({
    schema: PRODUCT,
    data: { id: `sku-${i % 5000}`, name: 'Trail shoe', category: 'Shoes/Running', price: price(next), list_price: price(next), quantity: 1 + (i % 4), currency: 'EUR', brand: 'Acme', position: i % 24 },
  }),
];

async function writeLines(file: string, lines: number, line: (next: () => number, i: number) => unknown): Promise<void> {
  const next = random(27);
  const out = createWriteStream(file);
  for (let start = 0; start < lines; start += 1000) {
    const block: string[] = [];
    for (let i = start; i < Math.min(lines, start + 1000); i++) block.push(JSON.stringify(line(next, i)));
    if (!out.write(`${block.join('\n')}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** `lines` lines, a quarter each of client_session 1-0-2, web_page 1-0-0, link_click 1-0-1 and ecommerce product 1-0-0 (decimal prices). */
export function writeMix(file: string, lines: number): Promise<void> {
  return writeLines(file, lines, (next, i) => LINE_MAKERS[i % 4]!(next, i));
}

/** `lines` client_session 1-0-2 entities. */
export function writeClientSessions(file: string, lines: number): Promise<void> {
  return writeLines(file, lines, clientSession);
}
