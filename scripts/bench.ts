#!/usr/bin/env node
/**
 * `npm run bench`: every case after a warm-up, several rounds, variants alternating; prints a table and
 * writes bench/results.json with the machine. Ratios are taken within one run, never across runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { machine, type BenchRow } from './bench/harness.js';
import { largeStore, persistenceCost, pluginOverhead, usersAtScale } from './bench/plugin-cases.js';
import { sqliteStore } from './bench/sqlite-cases.js';
import { requestPath } from './bench/request-cases.js';
import { collectorEviction, collectorQueries, collectorThroughput, sharedStore } from './bench/tool-cases.js';
import { validationPluginCost } from './bench/validation-cases.js';
import { collectorValidationCost, validatorCases } from './bench/validator-cases.js';

async function main(): Promise<void> {
  const started = Date.now();
  const rows: BenchRow[] = [];
  const step = async (name: string, run: () => Promise<BenchRow | BenchRow[]>) => {
    process.stderr.write(`${name}…`);
    const stepStart = Date.now();
    const result = await run();
    process.stderr.write(` ${((Date.now() - stepStart) / 1000).toFixed(0)} s\n`);
    rows.push(...(Array.isArray(result) ? result : [result]));
  };
  await step('plugin overhead', pluginOverhead);
  await step('users at scale', usersAtScale);
  await step('persistence cost', persistenceCost);
  await step('large stores', largeStore);
  await step('SQLite store', sqliteStore);
  await step('request path', requestPath);
  await step('validator', validatorCases);
  await step('validation plugin', validationPluginCost);
  await step('collector', async () => collectorThroughput(await collectorValidationCost()));
  await step('collector eviction', collectorEviction);
  await step('collector queries', collectorQueries);
  await step('Redis and SQLite stores, 4 processes', sharedStore);

  const columns = ['case', 'measuredAs', 'result', 'spread', 'target', 'met'] as const;
  const headers = { case: 'case', measuredAs: 'measured as', result: 'median', spread: 'spread', target: 'target', met: 'met' };
  const widths = columns.map((c) => Math.max(headers[c].length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  const table = [line(columns.map((c) => headers[c])), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => r[c])))];
  const info = machine();
  process.stdout.write(`\n${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, Node ${info.node}\n\n${table.join('\n')}\n`);
  process.stdout.write(`\n${((Date.now() - started) / 1000).toFixed(0)} s in all.\n`);
  await mkdir('bench', { recursive: true });
  await writeFile('bench/results.json', `${JSON.stringify({ date: new Date().toISOString(), machine: info, durationSeconds: (Date.now() - started) / 1000, rows }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
