/**
 * The validator's work per line against the least a validator can do (raw-validate-loop.ts: JSON.parse and
 * plain Ajv), as whole processes in alternating rounds; and the collector's own validation cost per event.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStructEvent, newTracker } from '@snowplow/node-tracker';
import { newInMemoryEventStore } from '@snowplow/tracker-core';
import { createClientSession, MemorySessionStore } from '../../plugin/index.js';
import { IgluValidator } from '../../plugin/iglu/index.js';
import { alternate, median, ratio, ratios, spread, type BenchRow } from './harness.js';
import { runNode, type ChildRun } from './tool-cases.js';
import { writeClientSessions, writeMix } from './validator-inputs.js';

const LINES = 200_000;
const ROUNDS = 7;

/**
 * `validate` against the raw loop on 200k NDJSON lines of the issue's mix (a quarter each of
 * client_session, web_page, link_click and ecommerce product with decimal prices) and of client_session
 * alone: CPU time of all threads per line (the target) and wall time, as ratios raw / validate of the same
 * round. Then peak memory on 200k and on 1M lines.
 */
export async function validatorCases(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'client-session-bench-'));
  try {
    const mix = join(dir, 'mix-200k.ndjson');
    const sessions = join(dir, 'client-session-200k.ndjson');
    await writeMix(mix, LINES);
    await writeClientSessions(sessions, LINES);
    const mixed = await againstRawLoop(mix);
    const alone = await againstRawLoop(sessions);
    const big = join(dir, 'client-session-1m.ndjson');
    await writeClientSessions(big, 1_000_000);
    const bigRun = await runNode('validate.js', [big]);
    if (!bigRun.stdout.includes('1000000 valid, 0 invalid')) throw new Error(`validate said: ${bigRun.stdout.slice(0, 200)}`);
    const smallMB = median(alone.validate.map((run) => run.maxRssMB));
    return [
      cpuRow('validator, mixed', 'the mix', mixed),
      cpuRow('validator, client_session', 'client_session lines', alone),
      {
        case: 'validator memory',
        measuredAs: 'peak RSS of `validate` on 200k client_session lines / on 1M lines',
        result: `${smallMB.toFixed(0)} MB / ${bigRun.maxRssMB.toFixed(0)} MB`,
        spread: '',
        target: 'flat',
        met: bigRun.maxRssMB < smallMB * 1.5 ? 'yes' : 'no',
        data: { smallMB, bigMB: bigRun.maxRssMB },
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Rounds {
  raw: ChildRun[];
  validate: ChildRun[];
  /** Lines the raw loop (plain Ajv) found valid: fewer than all where it misjudges decimals. */
  rawValid: number;
}

/** Alternating rounds of the two processes on `file` (every line valid); the warm-up runs are left out. */
async function againstRawLoop(file: string): Promise<Rounds> {
  const runs: Rounds = { raw: [], validate: [], rawValid: 0 };
  let warm = { raw: false, validate: false };
  await alternate(ROUNDS, ['raw', 'validate'] as const, async (variant) => {
    const run = await runNode(variant === 'raw' ? 'bench/raw-validate-loop.js' : 'validate.js', [file]);
    if (variant === 'validate' && !run.stdout.includes(`${LINES} valid, 0 invalid`)) throw new Error(`validate said: ${run.stdout.slice(0, 200)}`);
    if (variant === 'raw') runs.rawValid = Number(run.stdout.trim());
    if (warm[variant]) runs[variant].push(run);
    warm = { ...warm, [variant]: true };
    return run.cpuMs;
  });
  return runs;
}

function cpuRow(name: string, what: string, runs: Rounds): BenchRow {
  const cpu = ratios(runs.raw.map((r) => r.cpuMs), runs.validate.map((r) => r.cpuMs));
  const wall = ratios(runs.raw.map((r) => r.ms), runs.validate.map((r) => r.ms));
  const linesPerSecond = LINES / (median(runs.validate.map((r) => r.ms)) / 1000);
  const wrong = LINES - runs.rawValid;
  return {
    case: name,
    measuredAs: `\`validate\` on 200k NDJSON lines of ${what}: CPU time (all threads) of the raw loop (JSON.parse + plain Ajv${wrong > 0 ? `, which rejects ${((wrong / LINES) * 100).toFixed(1)}% of these valid lines` : ''}) / of validate; wall time likewise`,
    result: `${ratio(median(cpu))} CPU, ${ratio(median(wall))} wall (${Math.round(linesPerSecond / 1000)}k lines/s)`,
    spread: spread(cpu, ratio),
    target: '>= 0.80 (CPU)',
    met: median(cpu) >= 0.8 ? 'yes' : 'no',
    data: { cpuRatios: cpu, wallRatios: wall, cpuMs: { raw: runs.raw.map((r) => r.cpuMs), validate: runs.validate.map((r) => r.cpuMs) }, wallMs: { raw: runs.raw.map((r) => r.ms), validate: runs.validate.map((r) => r.ms) }, rawValid: runs.rawValid },
  };
}

/**
 * What the collector's validation costs per event: `validatePayload` (the collector's call) on 20k payloads
 * that node-tracker sent (struct events with the plugin's client_session entity, `cx` in base64), CPU
 * microseconds per event, median of 5 rounds after a warm-up.
 */
export async function collectorValidationCost(): Promise<number> {
  const events = 20_000;
  const payloads: Array<Record<string, string>> = [];
  const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0 });
  const tracker = newTracker(
    { namespace: 'bench', appId: 'bench' },
    {
      endpoint: 'http://127.0.0.1:9',
      bufferSize: 100,
      eventStore: newInMemoryEventStore({ maxSize: events }), // the default keeps 1000 and drops the oldest
      customFetch: async (request: Request) => {
        payloads.push(...((await request.json()) as { data: Array<Record<string, string>> }).data);
        return new Response(null, { status: 200 });
      },
    },
  );
  tracker.addPlugin(session);
  for (let i = 0; i < events; i++) tracker.track(buildStructEvent({ category: 'bench', action: 'tick' }));
  // flush() returns at once while another flush is in flight: flush until all arrived (bounded).
  for (let round = 0; payloads.length < events; round++) {
    if (round === 1000) throw new Error(`only ${payloads.length} of ${events} payloads were sent`);
    await tracker.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await session.close();
  const validator = new IgluValidator();
  const micros = await alternate(5, ['validate'] as const, async () => {
    const start = process.cpuUsage();
    for (const payload of payloads) if (!validator.validatePayload(payload).valid) throw new Error('the bench payloads must be valid');
    const used = process.cpuUsage(start);
    return (used.user + used.system) / events;
  });
  return median(micros.validate);
}
