#!/usr/bin/env node
/**
 * `snowplow-lint-schemas [options] [repository]`: an igluctl-compatible linter for a static Iglu repository.
 * Exit 0 clean, 1 issues, 2 usage or I/O errors.
 */
import { stat } from 'node:fs/promises';
import { LINTERS, SKIPPABLE_LINTERS, lintRepository, parseIgluUri, type LintIssue } from '../plugin/iglu/index.js';
import { EXIT, Output, UsageError, parseCommandLine, runCommand } from './lib/cli.js';
import { describeIoError } from './lib/instance-source.js';

const USAGE = `Usage: npm run lint:schemas -- [options] [repository]

Lints every schema in a static Iglu repository (<vendor>/<name>/jsonschema/<M-R-A>; default: schemas/)
the way igluctl lint does: the Iglu and draft-04 meta-schemas, the file path against the self block,
SchemaVer (valid versions, a 1-0-0, no gaps), and igluctl's linters, also inside anyOf/allOf/oneOf/not.
Any issue of any level fails its schema.

Options:
  --skip-checks <a,b>  linters to skip (only Warning and Info ones: ${SKIPPABLE_LINTERS.join(', ')})
  --skip-schemas <uris> Iglu URIs of schemas to leave out (comma-separated, repeatable)
  --json               print {"schemas":n,"failed":n,"issues":[{file,linter,level,message,path}]}
  -h, --help           this text

Exit codes: 0 no issues, 1 issues found, 2 usage or I/O error.`;

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), {
    'skip-checks': { type: 'string', multiple: true },
    'skip-schemas': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length > 1) throw new UsageError(`one repository at a time, got ${positionals.length}`);
  const skipChecks = commaList(values['skip-checks']);
  const skipSchemas = commaList(values['skip-schemas']);
  const badUri = skipSchemas.find((uri) => parseIgluUri(uri) === null);
  if (badUri !== undefined) throw new UsageError(`--skip-schemas: "${badUri}" is not an Iglu URI (iglu:vendor/name/format/M-R-A)`);
  for (const name of skipChecks) {
    const linter = LINTERS[name];
    if (linter === undefined) throw new UsageError(`--skip-checks: unknown linter "${name}"; known: ${Object.keys(LINTERS).join(', ')}`);
    if (linter.level === 'Error') throw new UsageError(`--skip-checks: "${name}" is an Error-level linter and cannot be skipped`);
  }
  const repository = positionals[0] ?? 'schemas';
  const info = await stat(repository).catch((error: unknown) => {
    throw new Error(`cannot read the repository ${repository}: ${describeIoError(error)}`);
  });
  if (!info.isDirectory()) throw new Error(`the repository ${repository} is not a folder`);

  const report = await lintRepository(repository, { skipChecks, skipSchemas });
  const output = new Output();
  if (values.json === true) await output.write(`${JSON.stringify(report)}\n`);
  else {
    for (const issue of report.issues) await output.write(`${humanLine(issue)}\n`);
    await output.write(`${report.schemas} schemas, ${report.failed} failed, ${report.issues.length} issues\n`);
  }
  await output.flush();
  return report.issues.length > 0 ? EXIT.invalid : EXIT.ok;
}

function commaList(value: unknown): string[] {
  return ((value as string[] | undefined) ?? []).flatMap((list) => list.split(',')).map((s) => s.trim()).filter(Boolean);
}

function humanLine(issue: LintIssue): string {
  return `${issue.file}: [${issue.level}] ${issue.linter}${issue.path === '' ? '' : ` at ${issue.path}`}: ${issue.message}`;
}

runCommand('lint:schemas', USAGE, main);
