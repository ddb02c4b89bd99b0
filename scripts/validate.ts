#!/usr/bin/env node
/**
 * `snowplow-validate [options] <paths...|->`: validates self-describing JSON, contexts and tracker payloads
 * against Iglu schemas. Exit 0 all valid, 1 any invalid, 2 usage or I/O errors.
 */
import { atomicFieldIssues, atomicFieldsLimits } from '../plugin/collector/atomic-fields.js';
import { parseIgluUri } from '../plugin/iglu/schema-key.js';
import { IgluValidator, type Superseded, type ValidationIssue, type ValidationReport } from '../plugin/iglu/validator.js';
import { validateCase } from './lib/ci-cases.js';
import { CI_REPORT_OPTIONS, CI_REPORT_USAGE, CiReport, ciOptionsOf } from './lib/ci-report.js';
import { EXIT, Output, UsageError, checkFolders, parseCommandLine, runCommand } from './lib/cli.js';
import { enrichOptionsOf } from './lib/enrich-options.js';
import { resolverConfigOf } from './lib/resolver-option.js';
import { expandInputs, readInstances, unparsable, type InputFormat, type InputItem } from './lib/instance-source.js';
import { Progress } from './lib/progress.js';
import { PAYLOAD_DATA_PREFIX } from '../plugin/schema-uris.js';

const USAGE = `Usage: npm run validate -- [options] <path...|->

Validates each instance against the Iglu schema it names: self-describing JSON ({schema, data}),
contexts wrappers and Snowplow tracker payloads (payload_data bodies or single payloads, with
co/cx and ue_pr/ue_px decoded and validated). Paths are files or folders (.json, .ndjson, .jsonl);
- reads standard input. A .json file is one document (an array holds many instances); other files
and standard input are NDJSON (one instance per line).

Options:
  --schemas <dir>   a static Iglu repository searched before this package's schemas/ (repeatable)
  --resolver <file> an Iglu resolver configuration (resolver-config 1-0-0..1-0-3): its embedded and HTTP
                    repositories (Iglu Server: apikey) are searched after the vendored schemas
  --json            print one JSON report: {"results":[{file,line,schema,valid,errors:[{path,keyword,message}],notes?}],"valid":n,"invalid":n}
  --only-invalid    leave valid instances out of the --json results
  --format <f>      json or ndjson: how to read every input (default: by file extension)
  --config <file>   Micro's configuration file, written as JSON: Enrich's maxJsonDepth,
                    validation.atomicFieldsLimits and acceptInvalid
  --max-json-depth <n>  Enrich's maxJsonDepth (default 40, at most 500): deeper JSON is invalid
  --accept-invalid  Enrich's acceptInvalid: tracker payloads' atomic fields over their limits are not errors
  --lookup <uri>    print the schema an Iglu URI resolves to, as the first repository that has it stores it,
                    or each repository's attempt and why it failed (exit 1; with --json, as JSON)
${CI_REPORT_USAGE}
  -h, --help        this text

Verdicts are Snowplow's (Enrich, Micro): draft-04, numbers judged on their JSON text (1.0 is not an
integer, 19.99 is a multiple of 0.01), date-time as Snowplow reads it (a space may separate date and
time), strict uuid/hostname; a remote $ref matches anything (noted); a schema's $supersededBy is followed
(noted); Enrich's maxJsonDepth and, on tracker payloads, its atomic-field limits apply. Folders are walked
following symbolic links.

Exit codes: 0 all valid, 1 at least one invalid instance (or no instance at all), 2 usage or I/O error.`;

export interface ValidateResult {
  file: string;
  line: number;
  schema: string | null;
  valid: boolean;
  errors: Array<{ path: string; keyword: string; message: string }>;
  /** What was not checked (e.g. a remote $ref); present only when there is something to say. */
  notes?: string[];
  /** Instances validated against the later version their schema's `$supersededBy` names; present only when there is one. */
  superseded?: Superseded[];
}

/** Enrich's rules for tracker payloads beyond JSON Schema: `limits` null when `--accept-invalid`. */
interface PayloadRules {
  limits: Record<string, number> | null;
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), {
    schemas: { type: 'string', multiple: true },
    resolver: { type: 'string' },
    json: { type: 'boolean' },
    'only-invalid': { type: 'boolean' },
    format: { type: 'string' },
    config: { type: 'string' },
    'max-json-depth': { type: 'string' },
    'accept-invalid': { type: 'boolean' },
    lookup: { type: 'string' },
    ...CI_REPORT_OPTIONS,
  });
  const { maxJsonDepth, rules } = await enrichRulesOf(values);
  if (values.lookup !== undefined) return lookUp(values.lookup as string, values, maxJsonDepth);
  if (positionals.length === 0) throw new UsageError('no input: give one or more paths, or - for standard input');
  const format = values.format as string | undefined;
  if (format !== undefined && format !== 'json' && format !== 'ndjson') throw new UsageError(`--format must be json or ndjson, got ${format}`);
  if (positionals.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  const ci = ciOptionsOf(values);

  const repositories = (values.schemas as string[] | undefined) ?? [];
  await checkFolders('--schemas', repositories);
  const validator = new IgluValidator({ repositories, resolverConfig: await resolverConfigOf(values.resolver as string | undefined), maxJsonDepth });
  // With HTTP registries, each instance may first wait for schemas (bounded); without, no await per line.
  const remote = validator.resolver.hasRemote;
  const results = await ResultsOutput.open({ json: values.json === true, onlyInvalid: values['only-invalid'] === true, ci });
  const progress = new Progress(positionals);
  await progress.start();
  for await (const input of expandInputs(positionals)) {
    if ('io' in input) {
      const result = ioResult(input.file, 0, input.io);
      if (results.reporting) await results.report(result);
      results.add(result, true);
      continue;
    }
    for await (const batch of readInstances(input.file, { format: format as InputFormat | undefined, onBytes: progress.add })) {
      for (const item of batch) {
        const result = remote ? await validator.settle(() => check(validator, item, rules)) : check(validator, item, rules);
        progress.count();
        if (results.reporting) await results.report(result); // no promise per line unless a CI report is asked for
        results.add(result, item.kind === 'io');
      }
      if (await results.flushed()) break;
    }
  }
  progress.stop();
  return results.finish(positionals);
}

/** Enrich's rules from `--config`, `--max-json-depth` and `--accept-invalid` (the flags win). */
async function enrichRulesOf(values: Record<string, unknown>): Promise<{ maxJsonDepth: number | undefined; rules: PayloadRules }> {
  const { maxJsonDepth, acceptInvalid, atomicFieldsLimits: limits } = await enrichOptionsOf(values);
  return { maxJsonDepth, rules: { limits: acceptInvalid === true ? null : atomicFieldsLimits(limits) } };
}

/** Where results go: the text or JSON report (buffered), the CI reports, the counts and the notes for stderr. */
class ResultsOutput {
  readonly #counts = { valid: 0, invalid: 0, io: 0 };
  readonly #notes = new Set<string>();
  #first = true;

  private constructor(
    private readonly output: Output,
    private readonly reports: CiReport,
    private readonly options: { json: boolean; onlyInvalid: boolean },
  ) {}

  static async open(options: { json: boolean; onlyInvalid: boolean; ci: ReturnType<typeof ciOptionsOf> }): Promise<ResultsOutput> {
    const output = new Output();
    const results = new ResultsOutput(output, await CiReport.open('validate', options.ci, output), options);
    if (options.json) await output.write('{"results":[');
    return results;
  }

  /** `--reporter github` or `--junit`: each result also goes to `report`. */
  get reporting(): boolean {
    return this.reports.active;
  }

  report(result: ValidateResult): Promise<void> {
    return this.reports.add(validateCase(result));
  }

  /** Counts a result and buffers its output (the loop waits on the pipe once per batch: `flushed`). */
  add(result: ValidateResult, io: boolean): void {
    if (result.notes !== undefined) for (const note of result.notes) this.#notes.add(note);
    if (result.superseded !== undefined) for (const s of result.superseded) this.#notes.add(`${s.originalSchema} is superseded ($supersededBy): validated with ${s.validatedWith}, as Snowplow does`);
    if (io) this.#counts.io++;
    else if (result.valid) this.#counts.valid++;
    else this.#counts.invalid++;
    if (this.options.json) {
      if (this.options.onlyInvalid && result.valid) return;
      this.output.append(`${this.#first ? '' : ','}\n${JSON.stringify(result)}`);
      this.#first = false;
    } else if (!result.valid && !this.reports.github) {
      this.output.append(`${humanLine(result)}\n`);
    }
  }

  /** Writes what is buffered when it is large; true once the reader of the output has gone (stop reading input). */
  async flushed(): Promise<boolean> {
    await this.output.flushIfFull();
    return this.output.closed;
  }

  /** The summary, the notes, and the exit code. */
  async finish(inputs: string[]): Promise<number> {
    const { valid, invalid, io } = this.#counts;
    const none = valid + invalid + io === 0;
    if (this.options.json) await this.output.write(`\n],"valid":${valid},"invalid":${invalid + io}}\n`);
    else await this.output.write(`${valid} valid, ${invalid} invalid${io > 0 ? `, ${io} could not be read` : ''}\n`);
    await this.output.flush();
    await this.reports.close();
    for (const note of this.#notes) process.stderr.write(`validate: note: ${note}\n`);
    if (none) process.stderr.write(`validate: no instance found in ${inputs.join(', ')} (.json, .ndjson, .jsonl files, or standard input)\n`);
    if (io > 0) return EXIT.error;
    return invalid > 0 || none ? EXIT.invalid : EXIT.ok;
  }
}

const NO_ISSUES: readonly ValidationIssue[] = [];

function check(validator: IgluValidator, item: InputItem, rules: PayloadRules): ValidateResult {
  if (item.kind === 'io') return ioResult(item.file, item.line, item.message);
  if (item.kind === 'unreadable') return unreadableResult(item);
  let value: unknown;
  let report: ValidationReport;
  if (item.kind === 'json') {
    try {
      value = JSON.parse(item.text);
    } catch (error) {
      return unreadableResult(unparsable(item.file, item.line, error));
    }
    report = validator.validateJson(item.text, value); // exact numbers only where a verdict depends on them
  } else {
    value = item.value;
    report = validator.validate(value);
  }
  // Atomic fields are a tracker payload's: only a payload's report names payload_data.
  const atomic = rules.limits === null || report.schema?.startsWith(PAYLOAD_DATA_PREFIX) !== true ? NO_ISSUES : atomicFieldIssues(value, rules.limits);
  if (report.valid && atomic.length === 0 && report.notes.length === 0 && report.superseded === undefined) {
    return { file: item.file, line: item.line, schema: report.schema, valid: true, errors: [] };
  }
  return {
    file: item.file,
    line: item.line,
    schema: report.schema,
    valid: report.valid && atomic.length === 0,
    // Name the failing schema when it is not the instance's own (an entity inside a payload, say).
    errors: [...report.errors, ...atomic].map((e) => ({
      path: e.path,
      keyword: e.keyword,
      message: e.schema !== null && e.schema !== report.schema ? `${e.message} (${e.schema})` : e.message,
    })),
    ...(report.notes.length > 0 ? { notes: report.notes } : {}),
    ...(report.superseded === undefined ? {} : { superseded: report.superseded }),
  };
}

/** `--lookup <uri>`: the schema (exit 0), or each repository's attempt (exit 1). */
async function lookUp(uri: string, values: Record<string, unknown>, maxJsonDepth: number | undefined): Promise<number> {
  if (parseIgluUri(uri) === null) throw new UsageError(`--lookup: ${JSON.stringify(uri)} is not an Iglu URI (iglu:vendor/name/format/M-R-A)`);
  const repositories = (values.schemas as string[] | undefined) ?? [];
  await checkFolders('--schemas', repositories);
  const validator = new IgluValidator({ repositories, resolverConfig: await resolverConfigOf(values.resolver as string | undefined), maxJsonDepth });
  const found = await validator.resolver.lookUp(uri);
  const output = new Output();
  if (found.ok) {
    await output.write(`${JSON.stringify(found.schema.schema, null, values.json === true ? undefined : 2)}\n`);
    await output.flush();
    if (values.json !== true) process.stderr.write(`validate: ${uri} is ${found.schema.file}\n`);
    return EXIT.ok;
  }
  if (values.json === true) await output.write(`${JSON.stringify({ error: 'ResolutionError', message: found.reason, lookupHistory: found.lookupHistory })}\n`);
  else {
    await output.write(`${uri} not found:\n`);
    for (const { repository, errors } of found.lookupHistory) {
      await output.write(`  ${repository}: ${errors.map((e) => (e.message === undefined ? e.error : `${e.error}: ${e.message}`)).join('; ')}\n`);
    }
  }
  await output.flush();
  return EXIT.invalid;
}

function unreadableResult(item: InputItem & { kind: 'unreadable' }): ValidateResult {
  return { file: item.file, line: item.line, schema: null, valid: false, errors: [{ path: '', keyword: item.keyword, message: item.message }] };
}

function ioResult(file: string, line: number, message: string): ValidateResult {
  return { file, line, schema: null, valid: false, errors: [{ path: '', keyword: 'io', message }] };
}

function humanLine(result: ValidateResult): string {
  const where = `${result.file === '-' ? '<stdin>' : result.file}:${result.line}`;
  const what = result.errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`)).join('; ');
  return `${where}: ${what}${result.schema === null ? '' : ` [${result.schema}]`}`;
}

runCommand('validate', USAGE, main);
