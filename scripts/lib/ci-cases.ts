import { relative } from 'node:path';
import type { LintIssue, LintReport, VerifyReport } from '../../plugin/iglu/index.js';
import { isSchemaPath } from '../../plugin/iglu/schema-files.js';
import { walkFiles } from '../../plugin/iglu/walk-files.js';
import { lineOf, type CiCase, type CiFailure } from './ci-report.js';

/** The CI testcases of each command: what one input is, and what fails it. */

/** `validate`: one testcase per instance (`file:line`); its errors fail it. */
export function validateCase(result: { file: string; line: number; schema: string | null; valid: boolean; errors: Array<{ path: string; keyword: string; message: string }> }): CiCase {
  const stdin = result.file === '-';
  const where = `${stdin ? '<stdin>' : result.file}:${result.line}`;
  const message = result.errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`)).join('; ');
  const failures: CiFailure[] = result.valid
    ? []
    : [{ message: `${message}${result.schema === null ? '' : ` [${result.schema}]`}`, title: `invalid instance (${result.errors[0]?.keyword ?? 'invalid'})`, file: stdin ? undefined : result.file, line: result.line }];
  return { name: where, classname: stdin ? '<stdin>' : result.file, failures, error: result.errors[0]?.keyword === 'io' };
}

/** `lint:schemas`: one testcase per schema file (its issues fail it), plus one for issues about the input as a whole. */
export async function lintCases(report: LintReport, input: string): Promise<CiCase[]> {
  const byFile = new Map<string, LintIssue[]>();
  for (const issue of report.issues) byFile.set(issue.file, [...(byFile.get(issue.file) ?? []), issue]);
  const files: string[] = [];
  for await (const found of walkFiles(input, { skipHidden: true })) {
    if ('error' in found || (found.file !== input && !isSchemaPath(found.file))) continue;
    files.push(relative(process.cwd(), found.file) || found.file);
  }
  for (const file of byFile.keys()) if (!files.includes(file)) files.push(file);
  const cases: CiCase[] = [];
  for (const file of files) {
    const issues = byFile.get(file) ?? [];
    const failures: CiFailure[] = [];
    for (const issue of issues) {
      const line = issue.linter === 'io' || issue.linter === 'input' ? undefined : await lineOf(file, issue.path);
      failures.push({ message: `[${issue.level}] ${issue.message}${issue.path === '' ? '' : ` (at ${issue.path})`}`, title: issue.linter, file, line });
    }
    cases.push({ name: file, classname: 'lint:schemas', failures, error: issues.some((i) => i.linter === 'io') });
  }
  return cases;
}

/** `verify:schemas`: one testcase per checked version (its breaking changes fail it, too small a bump warns), per edited published version, per unreadable file. */
export async function verifyCases(report: VerifyReport, advice: (v: VerifyReport['versions'][number]) => string | null): Promise<CiCase[]> {
  const { bumpRank } = await import('../../plugin/iglu/evolution/advice.js'); // here only: validate and lint:schemas load no evolution code
  const cases: CiCase[] = [];
  const classname = `verify:schemas (${report.target})`;
  for (const e of report.errors) {
    cases.push({ name: e.file, classname, error: true, failures: [{ message: `${e.kind}: ${e.message}`, title: 'schema cannot be read', file: e.file, line: await lineOf(e.file, e.path) }] });
  }
  for (const e of report.edited) cases.push({ name: e.schema, classname, failures: [{ message: e.description, title: `published ${e.schema.slice(5)} ${e.change}`, file: e.file }] });
  for (const v of report.versions) {
    const failures: CiFailure[] = [];
    for (const c of report.changes.filter((c) => c.schema === v.schema && c.breaking)) {
      failures.push({ message: `${c.description} (compared with the model up to ${c.previous})`, title: `breaking change (${report.target})`, file: c.file, line: await lineOf(c.file, c.pointer) });
    }
    const text = advice(v);
    if (text !== null && v.chosen !== null && v.smallest !== null && bumpRank(v.smallest) > bumpRank(v.chosen)) failures.push({ level: 'warning', message: text, title: 'SchemaVer', file: v.file, line: 1 });
    cases.push({ name: v.schema, classname, failures });
  }
  return cases;
}
