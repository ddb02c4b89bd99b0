import { readFile } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { parseJsonExact } from './exact-json.js';
import { isDeeperThan, MAX_JSON_DEPTH } from './json.js';
import { parseSchemaVer } from './schema-key.js';
import { describeIoError, walkFiles } from './walk-files.js';

/** A file of a static Iglu repository that parsed as an Iglu schema at the right path. */
export interface SchemaFile {
  /** The file, relative to the working folder (as reports show it). */
  file: string;
  uri: string;
  vendor: string;
  name: string;
  version: [number, number, number];
  schema: Record<string, unknown>;
  /** The file's text (for line numbers and comparisons). */
  text: string;
}

/** Why a file could not be read as an Iglu schema: `io`, `syntax` (not JSON, no usable `self`) or `path` (`self` differs from the path). */
export interface SchemaFileIssue {
  file: string;
  kind: 'io' | 'syntax' | 'path';
  message: string;
  /** JSON pointer into the file ('' for the file as a whole). */
  path: string;
}

export interface SchemaFiles {
  /** How many files were schema files (`<vendor>/<name>/jsonschema/<version>`, or the single file given). */
  files: number;
  schemas: SchemaFile[];
  issues: SchemaFileIssue[];
}

/**
 * Reads a static Iglu repository, or one schema file, as igluctl does (`File.readSchemas`): the files whose
 * path ends in `<vendor>/<name>/jsonschema/<version>` (hidden names skipped, symbolic links followed, loops
 * reported), each parsed (numbers keep their text) and checked against its own path. Never throws on content.
 */
export async function readSchemaFiles(input: string): Promise<SchemaFiles> {
  const result: SchemaFiles = { files: 0, schemas: [], issues: [] };
  for await (const found of walkFiles(input, { skipHidden: true })) {
    const display = relative(process.cwd(), found.file) || found.file;
    if ('error' in found) {
      result.issues.push({ file: display, kind: 'io', message: found.error, path: '' });
      continue;
    }
    if (found.file !== input && !isSchemaPath(found.file)) continue; // igluctl opens only .../jsonschema/<version>
    result.files++;
    let text: string;
    try {
      text = await readFile(found.file, 'utf8');
    } catch (error) {
      result.issues.push({ file: display, kind: 'io', message: describeIoError(error), path: '' });
      continue;
    }
    const parsed = parseSchemaText(text, found.file, display);
    if ('issue' in parsed) result.issues.push(parsed.issue);
    else result.schemas.push(parsed);
  }
  return result;
}

/** The last four parts of a path: where igluctl reads vendor, name, format and version. */
export function igluPath(file: string): string[] {
  return resolve(file).split(sep).slice(-4);
}

/** A path igluctl reads as a schema: `.../<vendor>/<name>/jsonschema/<version>`. */
export function isSchemaPath(file: string): boolean {
  return igluPath(file)[2] === 'jsonschema';
}

/** Parses a file's text as an Iglu schema: JSON, not too deep, a `self` block naming `path` (its last four parts). */
export function parseSchemaText(text: string, path: string, display: string): SchemaFile | { issue: SchemaFileIssue } {
  const issue = (kind: SchemaFileIssue['kind'], message: string, pointer = '') => ({ issue: { file: display, kind, message, path: pointer } });
  let schema: unknown;
  try {
    schema = parseJsonExact(text);
  } catch (error) {
    if (error instanceof RangeError) return issue('syntax', 'too deep: JSON nested too deeply to parse');
    return issue('syntax', `not valid JSON: ${(error as Error).message}`);
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return issue('syntax', 'a schema must be a JSON object');
  const object = schema as Record<string, unknown>;
  if (isDeeperThan(object, MAX_JSON_DEPTH)) return issue('syntax', `too deep: the schema nests more than ${MAX_JSON_DEPTH} levels`);
  const self = object.self as Record<string, unknown> | undefined;
  const isSelf = self !== null && typeof self === 'object' && !Array.isArray(self);
  const version = isSelf && typeof self.version === 'string' ? parseSchemaVer(self.version) : null;
  if (!isSelf || version === null || ![self.vendor, self.name, self.format].every((v) => typeof v === 'string')) {
    return issue('syntax', 'cannot extract a self-describing JSON Schema: "self" needs vendor, name, format and a SchemaVer version (M-R-A)', '/self');
  }
  const expected = [self.vendor, self.name, self.format, self.version].join('/');
  const actual = igluPath(path).join('/');
  if (expected !== actual) return issue('path', `the file path ${actual} does not match the self block ${expected}`, '/self');
  return { file: display, uri: `iglu:${expected}`, vendor: self.vendor as string, name: self.name as string, version, schema: object, text };
}
