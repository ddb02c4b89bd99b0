#!/usr/bin/env node
/**
 * `snowplow-lint-schemas [options] [repository]`: an igluctl-compatible linter for a static Iglu repository.
 * Exit 0 clean, 1 issues, 2 usage or I/O errors.
 */
import { stat } from 'node:fs/promises';
import { BIGQUERY_LINTERS, LINTERS, SKIPPABLE_LINTERS, lintRepository, parseIgluUri, type LintIssue } from '../plugin/iglu/index.js';
import { lintCases } from './lib/ci-cases.js';
import { CI_REPORT_OPTIONS, CI_REPORT_USAGE, CiReport, ciOptionsOf } from './lib/ci-report.js';
import { EXIT, Output, UsageError, parseCommandLine, runCommand } from './lib/cli.js';
import { resolverConfigOf } from './lib/resolver-option.js';
import { describeIoError } from '../plugin/iglu/walk-files.js';

const USAGE = `Usage: npm run lint:schemas -- [options] [repository|schema-file]

Lints a static Iglu repository (default: schemas/) or one schema file the way igluctl lint does: only
files at <vendor>/<name>/jsonschema/<version> (hidden names skipped, symbolic links followed), each an
Iglu schema whose self block matches its path; SchemaVer families (a 1-0-0, no gaps) over every schema,
before --skip-schemas; the Iglu and draft-04 meta-schemas; and igluctl's linters (also inside
anyOf/allOf/oneOf/not). A remote $ref is never resolved. Any issue of any level fails its schema; an
input with no schema, or whose every schema is skipped, fails too.

Options:
  --skip-checks <a,b>  linters to skip (only Warning and Info ones: ${SKIPPABLE_LINTERS.join(', ')})
  --skip-schemas <uris> Iglu URIs of schemas to leave out (comma-separated, repeatable)
  --resolver <file>    an Iglu resolver configuration: read and checked (exit 2 if it is not valid), for
                       commands shared with validate; lint resolves no $ref, so it changes no verdict
  --bigquery           also run schema-ddl's BigQuery linters (${BIGQUERY_LINTERS.join(', ')}), as igluctl
                       releases on schema-ddl 0.14.2+ do; the default is igluctl 0.10.1's set (Iglu Central's CI)
  --json               print {"schemas":n,"failed":n,"issues":[{file,linter,level,message,path}]}
${CI_REPORT_USAGE}
  -h, --help           this text

Exit codes: 0 no issues, 1 issues found (or nothing to lint), 2 usage error or an input path that cannot be read.`;

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), {
    'skip-checks': { type: 'string', multiple: true },
    'skip-schemas': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    bigquery: { type: 'boolean' },
    resolver: { type: 'string' },
    ...CI_REPORT_OPTIONS,
  }, { most: 1, noun: 'repository' });
  const skipChecks = commaList(values['skip-checks']);
  const skipSchemas = commaList(values['skip-schemas']);
  const badUri = skipSchemas.find((uri) => parseIgluUri(uri) === null);
  if (badUri !== undefined) throw new UsageError(`--skip-schemas: "${badUri}" is not an Iglu URI (iglu:vendor/name/format/M-R-A)`);
  for (const name of skipChecks) {
    const linter = LINTERS[name];
    if (linter === undefined) throw new UsageError(`--skip-checks: unknown linter "${name}"; known: ${Object.keys(LINTERS).join(', ')}`);
    if (linter.level === 'Error') throw new UsageError(`--skip-checks: "${name}" is an Error-level linter and cannot be skipped`);
  }
  const ci = ciOptionsOf(values);
  await resolverConfigOf(values.resolver as string | undefined);
  const repository = positionals[0] ?? 'schemas';
  const info = await stat(repository).catch((error: unknown) => {
    throw new Error(`cannot read ${repository}: ${describeIoError(error)}`);
  });
  if (!info.isDirectory() && !info.isFile()) throw new Error(`${repository} is neither a folder nor a file`);

  const output = new Output();
  const reports = await CiReport.open('lint:schemas', ci, output);
  const report = await lintRepository(repository, { skipChecks, skipSchemas, bigquery: values.bigquery === true });
  if (values.json === true) await output.write(`${JSON.stringify(report)}\n`);
  else if (!reports.github) for (const issue of report.issues) await output.write(`${humanLine(issue)}\n`);
  if (reports.active) for (const testcase of await lintCases(report, repository)) await reports.add(testcase); // only for a CI report: it reads the files again
  if (values.json !== true) await output.write(`${report.schemas} schemas, ${report.failed} failed, ${report.issues.length} issues\n`);
  await output.flush();
  await reports.close();
  return report.issues.length > 0 ? EXIT.invalid : EXIT.ok;
}

function commaList(value: unknown): string[] {
  return ((value as string[] | undefined) ?? []).flatMap((list) => list.split(',')).map((s) => s.trim()).filter(Boolean);
}

function humanLine(issue: LintIssue): string {
  return `${issue.file}: [${issue.level}] ${issue.linter}${issue.path === '' ? '' : ` at ${issue.path}`}: ${issue.message}`;
}

runCommand('lint:schemas', USAGE, main);
