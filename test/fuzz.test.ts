import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA, CONTEXTS_SCHEMA, PAYLOAD_DATA_SCHEMA, UNSTRUCT_EVENT_SCHEMA } from '../plugin/schema-uris.js';
import { withTempDir } from './helpers/capture.js';
import { runCli } from './helpers/run-cli.js';

const KNOWN = [CLIENT_SESSION_SCHEMA, CONTEXTS_SCHEMA, UNSTRUCT_EVENT_SCHEMA, PAYLOAD_DATA_SCHEMA, 'iglu:com.acme/unknown/jsonschema/1-0-0'];
const nest = (depth: number, leaf: unknown): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { schema: UNSTRUCT_EVENT_SCHEMA, data: value };
  return value;
};

/** Small bad instances: wrong types, junk schemas, junk payload fields. */
const smallBadInstance: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.record({ schema: fc.string(), data: fc.anything() }),
  fc.record({ schema: fc.constantFrom(...KNOWN), data: fc.anything() }),
  fc.record({ schema: fc.constant(CLIENT_SESSION_SCHEMA), data: fc.record({ userId: fc.anything(), sessionId: fc.anything(), sessionIndex: fc.anything() }) }),
  fc.record({ e: fc.string(), tv: fc.string(), p: fc.string(), cx: fc.string(), ue_px: fc.string(), co: fc.string() }),
  fc.record({ e: fc.constant('ue'), tv: fc.constant('t'), p: fc.constant('srv'), cx: fc.base64String().map((s) => `${s}%`) }),
);

/** Those, plus deeply nested JSON and huge strings. */
const badInstance: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: smallBadInstance },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1000 }).map((depth) => nest(depth, { schema: CLIENT_SESSION_SCHEMA, data: {} })) },
  { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 100_000 }).map((n) => ({ schema: CLIENT_SESSION_SCHEMA, data: { userId: 'f'.repeat(n) } })) },
);

describe('fuzzing the Iglu module', () => {
  it('answers 10 000 bad inputs with a report and clear errors, never an exception', () => {
    const validator = new IgluValidator();
    fc.assert(
      fc.property(badInstance, (instance) => {
        for (const report of [validator.validate(instance), validator.validateSelfDescribing(instance), validator.validatePayload(instance)]) {
          expect(typeof report.valid).toBe('boolean');
          expect(report.valid).toBe(report.errors.length === 0);
          for (const error of report.errors) {
            expect(typeof error.path).toBe('string');
            expect(error.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('fuzzing the validate command', () => {
  it('answers each of 10 000 bad lines, with exit 1 and memory capped at 256 MB', () =>
    withTempDir(async (dir) => {
      const raw = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        badInstance.map((v) => JSON.stringify(v) ?? 'undefined'),
        badInstance.map((v) => (JSON.stringify(v) ?? '').slice(0, 17)), // truncated JSON
      );
      const lines = fc
        .sample(raw, { numRuns: 12_000, seed: 20261122 })
        .map((line) => line.replace(/[\r\n\u2028\u2029]/g, ' '))
        .filter((line) => line.trim() !== '')
        .slice(0, 10_000);
      expect(lines.length).toBe(10_000);
      await writeFile(join(dir, 'bad.ndjson'), `${lines.join('\n')}\n`);
      const run = await runCli('validate', ['--json', 'bad.ndjson'], { cwd: dir, nodeOptions: ['--max-old-space-size=256'] });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as { valid: number; invalid: number; results: Array<{ line: number; valid: boolean; errors: unknown[] }> };
      expect(report.results).toHaveLength(10_000);
      expect(report.valid + report.invalid).toBe(10_000);
      expect(report.results.map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
      for (const result of report.results) if (!result.valid) expect(result.errors.length).toBeGreaterThan(0);
    }));
});

describe('fuzzing the collector', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startCollector({ port: 0, maxEvents: 500, maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => collector.close());

  it('answers 10 000 bad inputs with 200 or a 4xx, keeps serving, and keeps memory bounded', async () => {
    const garbage = fc.sample(
      fc.record({
        body: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), badInstance.map((v) => JSON.stringify(v) ?? ''), fc.constant('x'.repeat(70 * 1024))),
        contentType: fc.constantFrom('application/json', 'application/json; charset=UTF-8', 'text/plain', 'application/x-www-form-urlencoded'),
        path: fc.constantFrom('/com.snowplowanalytics.snowplow/tp2', '/com.snowplowanalytics.snowplow/tp2', '/i', '/micro/good', '/nope'),
      }),
      { numRuns: 2_000, seed: 7 },
    );
    const batches = fc.sample(fc.array(smallBadInstance, { minLength: 100, maxLength: 100 }), { numRuns: 80, seed: 11 });
    const requests: Array<() => Promise<number>> = [
      ...garbage.map((g) => () => fetch(`${collector.url}${g.path}`, { method: 'POST', body: g.body, headers: { 'Content-Type': g.contentType } }).then(drain)),
      ...batches.map((data) => () => fetch(`${collector.url}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', body: safeJson({ schema: PAYLOAD_DATA_SCHEMA, data }), headers: { 'Content-Type': 'application/json' } }).then(drain)),
    ];
    const statuses = await pool(requests, 16);
    expect(statuses).toHaveLength(2_080); // 2 000 requests + 80 batches of 100 payloads: 10 000 inputs
    expect([...new Set(statuses)].every((s) => [200, 400, 404, 405, 413, 415].includes(s))).toBe(true);
    expect((await fetch(`${collector.url}/health`)).status).toBe(200);
    const counts = collector.counts();
    expect(counts.bad).toBeLessThanOrEqual(500);
    expect(counts.good).toBeLessThanOrEqual(500);
    expect(collector.dropped().bad).toBeGreaterThan(0);
  });
});

async function drain(response: Response): Promise<number> {
  await response.arrayBuffer();
  return response.status;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '{"schema": "too deep"}';
  }
}

async function pool<T>(tasks: Array<() => Promise<T>>, size: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}
