// What test/package.test.ts runs in Jest, Vitest and node:test inside the fresh app, and how it reads their reports.
import { execFile } from 'node:child_process';
import { expect } from '@jest/globals';

export interface RunnerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** No colours in the runners' output, so messages are compared as text. */
export const PLAIN_ENV = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };

/** Node with `args` in `cwd`, to its end (a failing test run exits non-zero: that is a result, not an error). */
export function runNode(cwd: string, args: string[], env: NodeJS.ProcessEnv = PLAIN_ENV): Promise<RunnerRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

export type Runner = 'jest' | 'vitest' | 'node';

/**
 * The failing case, in a runner's words: a checkout tracked with another total, and a failed one (total
 * -5); waiting for total 10 must fail explaining both, and so must the check for failed events.
 */
export function failingCase(runner: Runner): string {
  const imports = {
    jest: "import { snowplowMatchers } from 'snowplow-client-session/testing';\nexpect.extend(snowplowMatchers);",
    vitest: "import { afterAll, beforeAll, expect, test } from 'vitest';\nimport { snowplowMatchers } from 'snowplow-client-session/testing';\nexpect.extend(snowplowMatchers);",
    node: "import { after as afterAll, before as beforeAll, test } from 'node:test';\nimport { assertNoBadEvents, assertTracked } from 'snowplow-client-session/testing';",
  }[runner];
  const tracked = runner === 'node' ? 'await assertTracked(collector, QUERY, { timeout: 300 });' : 'await expect(collector).toHaveTrackedEvent(QUERY, { timeout: 300 });';
  const noBad = runner === 'node' ? "assertNoBadEvents(collector, { name_tracker: 'miss' });" : "await expect(collector).toHaveNoBadEvents({ name_tracker: 'miss' });";
  return `import { buildSelfDescribingEvent, newTracker } from '@snowplow/node-tracker';
import { startCollector } from 'snowplow-client-session/collector';
${imports}

const QUERY = { name_tracker: 'miss', data: { total: 10 } };
let collector;
beforeAll(async () => {
  collector = await startCollector({ port: 0, schemas: ['schemas'] });
  const tracker = newTracker({ namespace: 'miss', appId: 'shop' }, { endpoint: collector.url });
  for (const total of [12.5, -5]) tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/checkout/jsonschema/1-0-0', data: { orderId: 'o-9', total, currency: 'EUR' } } }));
  await tracker.flush();
});
afterAll(() => collector.close());

test('fails: the checkout with total 10 never came', async () => {
  ${tracked}
});

test('fails: a checkout failed validation', async () => {
  ${noBad}
});
`;
}

export const MISSED = 'fails: the checkout with total 10 never came';
export const BAD = 'fails: a checkout failed validation';

/** What each runner's failure messages must say, whatever its diff looks like. */
export function expectExplained(missed: string | undefined, bad: string | undefined): void {
  expect(missed).toContain('0 of 1 event matching {"name_tracker":"miss","data":{"total":10}} arrived within 300 ms (1 good event looked at).');
  expect(missed).toContain('Closest events:\n  1. iglu:com.acme/checkout/jsonschema/1-0-0 (app_id "shop"; no entities;');
  expect(missed).toContain('differs in: data.total');
  expect(missed).toContain('Failed events (1):');
  expect(missed).toContain('iglu:com.acme/checkout/jsonschema/1-0-0: $.total: must be >= 0, found -5');
  expect(bad).toContain('Failed events (1):\n  1. iglu:com.acme/checkout/jsonschema/1-0-0 (app_id "shop"; no entities;');
  expect(bad).toContain('iglu:com.acme/checkout/jsonschema/1-0-0: $.total: must be >= 0, found -5');
}

/** Jest's `--json` and Vitest's `--reporter=json` report: counts, and each failed test's message by title. */
export function readJestLikeReport(stdout: string): { passed: number; failed: number; messages: Record<string, string> } {
  const report = JSON.parse(stdout) as {
    numPassedTests: number;
    numFailedTests: number;
    testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
  };
  const messages: Record<string, string> = {};
  for (const file of report.testResults) for (const test of file.assertionResults) if (test.status === 'failed') messages[test.title] = test.failureMessages.join('\n');
  return { passed: report.numPassedTests, failed: report.numFailedTests, messages };
}

/** node:test's TAP report: each failed test's YAML block (its error message, one line per line), in order. */
export function readTapFailures(stdout: string): string[] {
  return stdout
    .split(/^not ok /m)
    .slice(1)
    .map((block) => block.replace(/^ {4}/gm, ''));
}
