#!/usr/bin/env node
/**
 * `snowplow-verify-schemas [options] <repository>`: schema changes checked as the warehouse loaders check
 * them (schema-ddl's rules), optionally against a git base. Exit 0 none breaking, 1 breaking or a published
 * version edited, 2 usage or I/O errors.
 */
import { stat } from 'node:fs/promises';
import { EVOLUTION_TARGETS, verifyRepository, type EvolutionTarget, type PublishedSchema, type VerifyReport, type VersionReport } from '../plugin/iglu/index.js';
import { describeIoError } from '../plugin/iglu/walk-files.js';
import { verifyCases } from './lib/ci-cases.js';
import { CI_REPORT_OPTIONS, CI_REPORT_USAGE, CiReport, ciOptionsOf } from './lib/ci-report.js';
import { EXIT, Output, UsageError, parseCommandLine, runCommand } from './lib/cli.js';
import { publishedSchemas } from './lib/git-base.js';

const USAGE = `Usage: npm run verify:schemas -- [options] [repository]

Checks how a static Iglu repository's schemas (default: schemas/) evolve, as the warehouse loaders see it:
each vendor/name/MODEL is taken in SchemaVer order, each version merged into the model of the versions
before it with schema-ddl's rules, and each change reported as breaking or not (field path, old and new
type). A breaking change within one model fails; a new MODEL starts a new table. Each version also gets
versioning advice: the smallest SchemaVer bump it needs beside the one chosen.

Options:
  --target <t>      parquet (default: BigQuery, Databricks, Snowflake, the Lake Loader) or redshift
                    (the RDB Loader's shredded tables)
  --base <git-ref>  compare with a git ref (a pull request's base): only new versions are checked, against
                    the published ones before them; a published version edited or deleted is an error
  --json            print {"changes":[{schema,previous,path,breaking,description,...}],"versions":[...],
                    "edited":[...],"files":[...],"errors":[...],"breaking":n,"target":t}
${CI_REPORT_USAGE}
  -h, --help        this text

Exit codes: 0 no breaking change, 1 a breaking change within one model or a published version edited in
place, 2 usage error, a schema that cannot be read, no schema at all, or a git error.`;

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), {
    target: { type: 'string' },
    base: { type: 'string' },
    json: { type: 'boolean' },
    ...CI_REPORT_OPTIONS,
  }, { most: 1, noun: 'repository' });
  const target = (values.target as string | undefined) ?? 'parquet';
  if (!EVOLUTION_TARGETS.includes(target as EvolutionTarget)) throw new UsageError(`--target must be ${EVOLUTION_TARGETS.join(' or ')}, got ${target}`);
  const ci = ciOptionsOf(values);
  const base = values.base as string | undefined;
  if (base === '') throw new UsageError('--base needs a git ref');
  const repository = positionals[0] ?? 'schemas';
  const info = await stat(repository).catch((error: unknown) => {
    throw new Error(`cannot read ${repository}: ${describeIoError(error)}`);
  });
  if (base !== undefined && !info.isDirectory()) throw new UsageError(`--base compares a repository folder; ${repository} is not one`);
  const published: PublishedSchema[] | undefined = base === undefined ? undefined : await publishedSchemas(repository, base);

  const output = new Output();
  const reports = await CiReport.open('verify:schemas', ci, output);
  const report = await verifyRepository(repository, { target: target as EvolutionTarget, published });
  if (values.json === true) await output.write(`${JSON.stringify({ changes: report.changes, versions: report.versions, edited: report.edited, files: report.files, errors: report.errors, breaking: report.breaking, target, ...(base === undefined ? {} : { base }) })}\n`);
  else if (!ci.github) for (const line of humanLines(report, base)) await output.write(`${line}\n`);
  if (reports.active) for (const testcase of await verifyCases(report, adviceLine)) await reports.add(testcase); // only for a CI report
  if (values.json !== true) await output.write(`${summary(report)}\n`);
  await output.flush();
  await reports.close();
  if (report.errors.length > 0) return EXIT.error;
  return report.breaking > 0 || report.edited.length > 0 ? EXIT.invalid : EXIT.ok;
}

function humanLines(report: VerifyReport, base: string | undefined): string[] {
  const lines: string[] = [];
  if (base !== undefined) {
    lines.push(report.files.length === 0 ? `no schema changed since ${base}` : `changed since ${base}:`);
    for (const f of report.files) lines.push(`  ${f.status.padEnd(8)} ${f.file}`);
  }
  for (const e of report.errors) lines.push(`${e.file}: [error] ${e.kind}${e.path === '' ? '' : ` at ${e.path}`}: ${e.message}`);
  for (const e of report.edited) lines.push(`${e.file}: [error] ${e.description}`);
  for (const version of report.versions) {
    const changes = report.changes.filter((c) => c.schema === version.schema);
    const advice = adviceLine(version);
    if (changes.length === 0 && advice === null) continue;
    const previous = changes[0]?.previous;
    lines.push(`${version.file}: ${version.schema}${previous === undefined ? '' : ` (merged into the model up to ${previous.slice(previous.lastIndexOf('/') + 1)})`}`);
    for (const c of changes) lines.push(`  ${c.breaking ? 'breaking' : 'ok      '} ${c.description}`);
    if (advice !== null) lines.push(`  ${advice}`);
  }
  return lines;
}

function adviceLine(v: VersionReport): string | null {
  if (v.chosen === null || v.smallest === null || v.suggested === null) return null;
  return `SchemaVer: ${v.chosen} chosen, ${v.smallest} is the smallest correct bump (${v.suggested})${v.reasons.length > 0 ? `: ${v.reasons.join('; ')}` : ''}`;
}

function summary(report: VerifyReport): string {
  const problems = [`${report.breaking} breaking`, `${report.edited.length} edited in place`, ...(report.errors.length > 0 ? [`${report.errors.length} could not be read`] : [])];
  return `${report.versions.length} versions checked (${report.target}): ${problems.join(', ')}`;
}

runCommand('verify:schemas', USAGE, main);
