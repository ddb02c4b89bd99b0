#!/usr/bin/env node
/**
 * `snowplow-validate [options] <paths...|->`: validates self-describing JSON, contexts and tracker payloads
 * against Iglu schemas. Exit 0 all valid, 1 any invalid, 2 usage or I/O errors.
 */
import { IgluValidator, type ValidationReport } from '../plugin/iglu/validator.js';
import { EXIT, Output, UsageError, checkFolders, parseCommandLine, runCommand } from './lib/cli.js';
import { resolverConfigOf } from './lib/resolver-option.js';
import { expandInputs, readInstances, unparsable, type InputFormat, type InputItem } from './lib/instance-source.js';
import { Progress } from './lib/progress.js';

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
  -h, --help        this text

Verdicts are Snowplow's (Enrich, Micro): draft-04, numbers judged on their JSON text (1.0 is not an
integer, 19.99 is a multiple of 0.01), strict date-time/uuid/hostname; a remote $ref matches anything
(noted). Folders are walked following symbolic links.

Exit codes: 0 all valid, 1 at least one invalid instance (or no instance at all), 2 usage or I/O error.`;

export interface ValidateResult {
  file: string;
  line: number;
  schema: string | null;
  valid: boolean;
  errors: Array<{ path: string; keyword: string; message: string }>;
  /** What was not checked (e.g. a remote $ref); present only when there is something to say. */
  notes?: string[];
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), {
    schemas: { type: 'string', multiple: true },
    resolver: { type: 'string' },
    json: { type: 'boolean' },
    'only-invalid': { type: 'boolean' },
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('no input: give one or more paths, or - for standard input');
  const format = values.format as string | undefined;
  if (format !== undefined && format !== 'json' && format !== 'ndjson') throw new UsageError(`--format must be json or ndjson, got ${format}`);
  if (positionals.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');

  const repositories = (values.schemas as string[] | undefined) ?? [];
  await checkFolders('--schemas', repositories);
  const resolverConfig = await resolverConfigOf(values.resolver as string | undefined);
  const validator = new IgluValidator({ repositories, resolverConfig });
  // With HTTP registries, each instance may first wait for schemas (bounded); without, no await per line.
  const remote = validator.resolver.hasRemote;
  const json = values.json === true;
  const onlyInvalid = values['only-invalid'] === true;
  const output = new Output();
  const progress = new Progress(positionals);
  await progress.start();
  const counts = { valid: 0, invalid: 0, io: 0 };
  const notes = new Set<string>();
  let first = true;
  if (json) await output.write('{"results":[');

  /** Buffers a result's output; the loop waits on the pipe once per batch (`flushIfFull`). */
  const emit = (result: ValidateResult): void => {
    if (json) {
      if (onlyInvalid && result.valid) return;
      output.append(`${first ? '' : ','}\n${JSON.stringify(result)}`);
      first = false;
    } else if (!result.valid) {
      output.append(`${humanLine(result)}\n`);
    }
  };

  for await (const input of expandInputs(positionals)) {
    if ('io' in input) {
      counts.io++;
      emit(ioResult(input.file, 0, input.io));
      continue;
    }
    for await (const batch of readInstances(input.file, { format: format as InputFormat | undefined, onBytes: progress.add })) {
      for (const item of batch) {
        const result = remote ? await validator.settle(() => check(validator, item)) : check(validator, item);
        if (result.notes !== undefined) for (const note of result.notes) notes.add(note);
        if (item.kind === 'io') counts.io++;
        else if (result.valid) counts.valid++;
        else counts.invalid++;
        progress.count();
        emit(result);
      }
      await output.flushIfFull();
      if (output.closed) break;
    }
  }
  progress.stop();
  const none = counts.valid + counts.invalid + counts.io === 0;
  if (json) await output.write(`\n],"valid":${counts.valid},"invalid":${counts.invalid + counts.io}}\n`);
  else {
    const io = counts.io > 0 ? `, ${counts.io} could not be read` : '';
    await output.write(`${counts.valid} valid, ${counts.invalid} invalid${io}\n`);
  }
  await output.flush();
  for (const note of notes) process.stderr.write(`validate: note: ${note}\n`);
  if (none) process.stderr.write(`validate: no instance found in ${positionals.join(', ')} (.json, .ndjson, .jsonl files, or standard input)\n`);
  if (counts.io > 0) return EXIT.error;
  return counts.invalid > 0 || none ? EXIT.invalid : EXIT.ok;
}

function check(validator: IgluValidator, item: InputItem): ValidateResult {
  if (item.kind === 'io') return ioResult(item.file, item.line, item.message);
  if (item.kind === 'unreadable') return unreadableResult(item);
  let report: ValidationReport;
  if (item.kind === 'json') {
    try {
      report = validator.validateJson(item.text); // JSON.parse, and exact numbers where a verdict depends on them
    } catch (error) {
      return unreadableResult(unparsable(item.file, item.line, error));
    }
  } else report = validator.validate(item.value);
  if (report.valid && report.notes.length === 0) return { file: item.file, line: item.line, schema: report.schema, valid: true, errors: [] };
  return {
    file: item.file,
    line: item.line,
    schema: report.schema,
    valid: report.valid,
    // Name the failing schema when it is not the instance's own (an entity inside a payload, say).
    errors: report.errors.map((e) => ({
      path: e.path,
      keyword: e.keyword,
      message: e.schema !== null && e.schema !== report.schema ? `${e.message} (${e.schema})` : e.message,
    })),
    ...(report.notes.length > 0 ? { notes: report.notes } : {}),
  };
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
