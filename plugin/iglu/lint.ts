import { IGLU_META_SCHEMA_URI } from '../schema-uris.js';
import { createIgluAjv, forSnowplow, type IgluAjv } from './ajv.js';
import { pointerSegment } from './json.js';
import { readSchemaFiles, type SchemaFile } from './schema-files.js';
import { compareSchemaVer } from './schema-key.js';

/** igluctl's levels. Any issue of any level fails the schema. */
export type LintLevel = 'Error' | 'Warning' | 'Info';

export interface LintIssue {
  /** The schema file, relative to the working folder. */
  file: string;
  /** The igluctl linter's name, or `syntax`, `path`, `schemaver`, `io`, `input` for the structural checks. */
  linter: string;
  level: LintLevel;
  message: string;
  /** JSON pointer into the schema ('' for the file as a whole). */
  path: string;
}

export interface LintReport {
  schemas: number;
  failed: number;
  issues: LintIssue[];
}

type Schema = Record<string, unknown>;
type Check = (schema: Schema, pointer: string) => string | null;

/** schema-ddl's BigQuery linters: run by igluctl releases built on schema-ddl 0.14.2 or later, not by 0.10.1 (Iglu Central's CI). Opt-in here. */
export const BIGQUERY_LINTERS = ['bqDisallowedCharacters', 'bqIllegalStart'] as const;

/** igluctl's linters: name, level and rule (schema-ddl's Linter), applied to every subschema. */
export const LINTERS: Record<string, { level: LintLevel; check: Check }> = {
  rootObject: {
    level: 'Warning',
    check: (s, p) =>
      p === '' && (!isObject(s.properties) || singleType(s.type) !== 'object') // schema-ddl: `type` exactly object (a union is flagged)
        ? 'At the root level, the schema should have a "type" property set to "object" and have a "properties" property'
        : null,
  },
  numericMinimumMaximum: {
    level: 'Error',
    check: (s) => (isNumber(s.minimum) && isNumber(s.maximum) && s.minimum > s.maximum ? `"minimum" [${s.minimum}] is greater than "maximum" [${s.maximum}]` : null),
  },
  stringMinMaxLength: {
    level: 'Error',
    check: (s) => (isNumber(s.minLength) && isNumber(s.maxLength) && s.minLength > s.maxLength ? `"minLength" [${s.minLength}] is greater than "maxLength" [${s.maxLength}]` : null),
  },
  stringMaxLengthRange: {
    level: 'Warning',
    check: (s) => (hasType(s, 'string') && isNumber(s.maxLength) && s.maxLength > 65535 ? `"maxLength" [${s.maxLength}] is greater than the Redshift VARCHAR maximum of 65535` : null),
  },
  arrayMinMaxItems: {
    level: 'Error',
    check: (s) => (isNumber(s.minItems) && isNumber(s.maxItems) && s.minItems > s.maxItems ? `"minItems" [${s.minItems}] is greater than "maxItems" [${s.maxItems}]` : null),
  },
  numericProperties: { level: 'Error', check: (s) => fruitless(s, ['multipleOf', 'minimum', 'maximum'], ['number', 'integer'], 'Numeric', 'a number, integer') },
  stringProperties: { level: 'Error', check: (s) => fruitless(s, ['minLength', 'maxLength', 'pattern', 'format'], ['string'], 'String', 'string') },
  arrayProperties: { level: 'Error', check: (s) => fruitless(s, ['items', 'additionalItems', 'minItems', 'maxItems'], ['array'], 'Array', 'array') },
  objectProperties: {
    level: 'Error',
    check: (s) => fruitless(s, ['properties', 'additionalProperties', 'required', 'patternProperties'], ['object'], 'Object', 'object'),
  },
  requiredPropertiesExist: {
    level: 'Error',
    check: (s) => {
      if (s.additionalProperties !== false || !Array.isArray(s.required) || !isObject(s.properties) || s.patternProperties !== undefined) return null;
      const missing = s.required.filter((key) => typeof key === 'string' && !Object.hasOwn(s.properties as Schema, key));
      return missing.length > 0 ? `Elements specified as required [${missing.join(',')}] don't exist in schema properties` : null;
    },
  },
  unknownFormats: {
    level: 'Warning',
    check: (s) =>
      typeof s.format === 'string' && !KNOWN_FORMATS.has(s.format)
        ? `Unknown format [${s.format}] detected. Known formats are: ${[...KNOWN_FORMATS].join(', ')}`
        : null,
  },
  numericMinMax: {
    level: 'Warning',
    check: (s) => ((hasType(s, 'number') || hasType(s, 'integer')) && !(isNumber(s.minimum) && isNumber(s.maximum)) ? 'A numeric property should have "minimum" and "maximum" properties' : null),
  },
  stringLength: {
    level: 'Warning',
    check: (s) =>
      hasType(s, 'string') && s.enum === undefined && s.maxLength === undefined && !(typeof s.format === 'string' && KNOWN_FORMATS.has(s.format))
        ? 'A string type in the schema doesn\'t contain "maxLength" or format which is required'
        : null,
  },
  optionalNull: {
    level: 'Info',
    check: (s) => {
      if (!Array.isArray(s.required) || !isObject(s.properties)) return null;
      const required = new Set(s.required);
      const keys = Object.entries(s.properties)
        .filter(([key, sub]) => !required.has(key) && !(isObject(sub) && hasType(sub, 'null')))
        .map(([key]) => key)
        .sort();
      return keys.length > 0 ? `Use "type: null" to indicate a field as optional for properties ${keys.join(',')}` : null;
    },
  },
  description: { level: 'Info', check: (s) => (typeof s.description === 'string' ? null : 'The schema is missing the "description" property') },
  schemaUri: {
    level: 'Error',
    check: (s, p) => {
      if (p !== '') return null;
      if (s.$schema === undefined) return 'No $schema field in top-level of schema';
      return s.$schema === IGLU_META_SCHEMA_URI ? null : `Given $schema is not ${IGLU_META_SCHEMA_URI}`;
    },
  },
  // schema-ddl's bigquery/Field.scala: a column name keeps only [A-Za-z0-9_] and starts with a letter or `_`.
  bqDisallowedCharacters: {
    level: 'Warning',
    check: (s) => {
      const bad = propertyNames(s).filter((name) => /[^A-Za-z0-9_]/.test(name));
      return bad.length > 0 ? `Following properties contain disallowed characters for BigQuery column name: [${bad.join(', ')}]` : null;
    },
  },
  bqIllegalStart: {
    level: 'Warning',
    check: (s) => {
      const bad = propertyNames(s).filter((name) => /^[^A-Za-z_]/.test(name));
      return bad.length > 0 ? `Following properties start with illegal character for BigQuery column name: [${bad.join(', ')}]` : null;
    },
  },
};

// igluctl's formats, plus `strict-uri`: Iglu's validators define it and Iglu Central uses it (inside an
// anyOf, where igluctl does not look but this linter does).
const KNOWN_FORMATS = new Set(['date-time', 'date', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uuid', 'strict-uri']);

/** The linters that `--skip-checks` may name (igluctl does not let Error-level linters be skipped). */
export const SKIPPABLE_LINTERS = Object.entries(LINTERS)
  .filter(([, linter]) => linter.level !== 'Error')
  .map(([name]) => name);

/**
 * Lints a static Iglu repository, or one schema file, the way `igluctl lint` does: the files whose path
 * ends in `<vendor>/<name>/jsonschema/<version>` (hidden names skipped, symbolic links followed), each of
 * which must parse as an Iglu schema at its own path; the SchemaVer families (a 1-0-0, no gaps) over every
 * parsed schema, before `skipSchemas` applies; then the meta-schemas and the linters (igluctl 0.10.1's set,
 * plus the BigQuery ones with `bigquery`). An input with no schema, or whose every schema is skipped, is an
 * issue too. Never throws on content.
 */
export async function lintRepository(
  input: string,
  options: { skipChecks?: readonly string[]; skipSchemas?: readonly string[]; bigquery?: boolean } = {},
): Promise<LintReport> {
  const skip = new Set([...(options.skipChecks ?? []), ...(options.bigquery === true ? [] : BIGQUERY_LINTERS)]);
  const skipSchemas = new Set(options.skipSchemas ?? []);
  const issues: LintIssue[] = [];
  const failed = new Set<string>();
  const fail = (issue: LintIssue) => {
    issues.push(issue);
    failed.add(issue.file);
  };
  const { files, schemas: parsed, issues: unreadable } = await readSchemaFiles(input);
  for (const { file, kind, message, path } of unreadable) fail({ file, linter: kind, level: 'Error', message, path });
  if (files === 0) fail({ file: input, linter: 'input', level: 'Error', message: `${input} is empty: no <vendor>/<name>/jsonschema/<version> file`, path: '' });
  else if (parsed.length === 0 && issues.length === 0) fail({ file: input, linter: 'input', level: 'Error', message: `${input}: no valid JSON Schemas`, path: '' });
  for (const issue of versionGaps(parsed)) fail(issue);

  const linted = parsed.filter((p) => !skipSchemas.has(p.uri));
  if (parsed.length > 0 && linted.length === 0) fail({ file: input, linter: 'input', level: 'Error', message: 'All schemas provided were also skipped (--skip-schemas)', path: '' });
  const ajv = createIgluAjv();
  for (const schema of linted) for (const issue of lintSchema(schema, ajv, skip)) fail({ file: schema.file, ...issue });
  return { schemas: linted.length, failed: failed.size, issues };
}

/** The meta-schemas (draft-04 plus `self`), a compile, and the linters, for one parsed schema. */
function lintSchema(parsed: SchemaFile, ajv: IgluAjv, skip: Set<string>): Array<Omit<LintIssue, 'file'>> {
  const { schema } = parsed;
  const issues: Array<Omit<LintIssue, 'file'>> = [];
  const syntax = (message: string, path = '') => issues.push({ linter: 'syntax', level: 'Error', message, path });
  // igluctl first checks the schema against the meta-schema and lints only what passes. One issue per
  // place: an `anyOf` in the meta-schema fails once per branch.
  if (!ajv.validate(IGLU_META_SCHEMA_URI, schema)) {
    const byPath = new Map<string, Set<string>>();
    for (const error of ajv.errors ?? []) byPath.set(error.instancePath, (byPath.get(error.instancePath) ?? new Set()).add(error.message ?? 'is invalid'));
    for (const [path, messages] of byPath) syntax(`does not match the Iglu meta-schema: ${[...messages].join('; ')}`, path);
    return issues;
  }
  // Valid against the meta-schema but still unusable, e.g. a `pattern` that is not a regular expression.
  // A remote $ref is never resolved (igluctl does not; Snowplow's validator lets it match anything).
  const { $schema: _metaUri, ...body } = schema;
  const compilable = forSnowplow(body) as Schema;
  try {
    ajv.compile(compilable);
  } catch (error) {
    syntax(`cannot be compiled: ${(error as Error).message}`);
  } finally {
    ajv.removeSchema(compilable); // so the next file may reuse an `id`
  }
  for (const [pointer, sub] of subschemas(schema, '')) {
    for (const [linter, { level, check }] of Object.entries(LINTERS)) {
      if (skip.has(linter)) continue;
      const message = check(sub, pointer);
      if (message !== null) issues.push({ linter, level, message, path: pointer });
    }
  }
  return issues;
}

/**
 * igluctl's SchemaVer check (Common.checkSchemasConsistency) over every parsed schema: one schema alone must
 * be 1-0-0; each vendor/name family must hold a 1-0-0, and each next version (sorted) must be +1 ADDITION,
 * +1 REVISION with ADDITION 0, or +1 MODEL with 0-0.
 */
function versionGaps(parsed: SchemaFile[]): LintIssue[] {
  const at = (p: SchemaFile, message: string): LintIssue => ({ file: p.file, linter: 'schemaver', level: 'Error', message, path: '' });
  if (parsed.length === 1) {
    const [only] = parsed as [SchemaFile];
    return only.version.join('-') === '1-0-0' ? [] : [at(only, `Schema [${only.uri.slice(5)}] contains a schema whose version is not 1-0-0`)];
  }
  const families = new Map<string, SchemaFile[]>();
  for (const p of parsed) families.set(`${p.vendor}/${p.name}`, [...(families.get(`${p.vendor}/${p.name}`) ?? []), p]);
  const issues: LintIssue[] = [];
  for (const [family, members] of families) {
    const sorted = [...members].sort((a, b) => compareSchemaVer(a.version, b.version));
    if (sorted[0]!.version.join('-') !== '1-0-0') {
      issues.push(at(sorted[0]!, `Schemas of [${family}] do not contain initial 1-0-0 schema`));
      continue;
    }
    const gap = sorted.findIndex((p, i) => i > 0 && !follows(sorted[i - 1]!.version, p.version));
    if (gap > 0) issues.push(at(sorted[gap]!, `Schemas of [${family}] have gaps between schema versions (${sorted[gap - 1]!.version.join('-')} then ${sorted[gap]!.version.join('-')})`));
  }
  return issues;
}

function follows([m0, r0, a0]: [number, number, number], [m, r, a]: [number, number, number]): boolean {
  return (m === m0 && r === r0 && a === a0 + 1) || (m === m0 && r === r0 + 1 && a === 0) || (m === m0 + 1 && r === 0 && a === 0);
}

/** The schema and every subschema igluctl lints, plus anyOf/allOf/oneOf/not (which igluctl skips). */
function* subschemas(schema: Schema, pointer: string): Generator<[string, Schema]> {
  yield [pointer, schema];
  const children: Array<[string, unknown]> = [];
  for (const keyword of ['properties', 'patternProperties'] as const) {
    if (isObject(schema[keyword])) for (const [key, sub] of Object.entries(schema[keyword])) children.push([`/${keyword}/${pointerSegment(key)}`, sub]);
  }
  for (const keyword of ['additionalProperties', 'additionalItems', 'not'] as const) children.push([`/${keyword}`, schema[keyword]]);
  if (Array.isArray(schema.items)) schema.items.forEach((sub, i) => children.push([`/items/${i}`, sub]));
  else children.push(['/items', schema.items]);
  for (const keyword of ['anyOf', 'allOf', 'oneOf'] as const) {
    if (Array.isArray(schema[keyword])) (schema[keyword] as unknown[]).forEach((sub, i) => children.push([`/${keyword}/${i}`, sub]));
  }
  for (const [path, sub] of children) if (isObject(sub)) yield* subschemas(sub, `${pointer}${path}`);
}

function fruitless(schema: Schema, keywords: string[], types: string[], kind: string, allowed: string): string | null {
  const present = keywords.filter((k) => schema[k] !== undefined);
  if (present.length === 0 || schema.type === undefined || types.some((t) => hasType(schema, t))) return null;
  return `${kind} properties [${present.join(',')}] require either ${allowed} or absent values`;
}

function hasType(schema: Schema, type: string): boolean {
  return Array.isArray(schema.type) ? schema.type.includes(type) : schema.type === type;
}

function propertyNames(schema: Schema): string[] {
  return isObject(schema.properties) ? Object.keys(schema.properties) : [];
}

function isObject(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}

/** `type` as schema-ddl decodes it: a one-element array (`["object"]`) is that one type, not a union. */
function singleType(type: unknown): unknown {
  return Array.isArray(type) && type.length === 1 ? type[0] : type;
}
