import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { IGLU_META_SCHEMA_URI } from '../schema-uris.js';
import { createIgluAjv, type IgluAjv } from './ajv.js';
import { parseSchemaVer } from './schema-key.js';

/** igluctl's levels. Any issue of any level fails the schema. */
export type LintLevel = 'Error' | 'Warning' | 'Info';

export interface LintIssue {
  /** The schema file, relative to the working folder. */
  file: string;
  /** The igluctl linter's name, or `syntax`, `path`, `schemaver` for the structural checks. */
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

/** igluctl's linters: name, level and rule (schema-ddl's Linter), applied to every subschema. */
export const LINTERS: Record<string, { level: LintLevel; check: Check }> = {
  rootObject: {
    level: 'Warning',
    check: (s, p) =>
      p === '' && (!isObject(s.properties) || !hasType(s, 'object'))
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
  // BigQuery column names: letters, digits and underscores, not starting with a digit. A hyphen is allowed
  // because Snowplow's loaders turn it into an underscore.
  bqDisallowedCharacters: {
    level: 'Warning',
    check: (s) => {
      const bad = propertyNames(s).filter((name) => /[^A-Za-z0-9_-]/.test(name));
      return bad.length > 0 ? `Property names [${bad.join(',')}] contain characters that BigQuery column names cannot hold (allowed: letters, digits, _ and -)` : null;
    },
  },
  bqIllegalStart: {
    level: 'Warning',
    check: (s) => {
      const bad = propertyNames(s).filter((name) => !/^[A-Za-z_]/.test(name));
      return bad.length > 0 ? `Property names [${bad.join(',')}] must start with a letter or an underscore to be BigQuery column names` : null;
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

/** Lints every schema in a static Iglu repository, the way `igluctl lint` does. Never throws on content. */
export async function lintRepository(
  root: string,
  options: { skipChecks?: readonly string[]; skipSchemas?: readonly string[] } = {},
): Promise<LintReport> {
  const skip = new Set(options.skipChecks ?? []);
  const skipSchemas = new Set(options.skipSchemas ?? []);
  const ajv = createIgluAjv();
  // igluctl's --skip-schemas: the listed schemas are left out entirely.
  const files = (await listFiles(root)).filter((file) => !skipSchemas.has(`iglu:${relative(root, file).split(sep).join('/')}`));
  const issues: LintIssue[] = [];
  const versions = new Map<string, { file: string; version: string }[]>();
  const failed = new Set<string>();

  for (const file of files) {
    const display = relative(process.cwd(), file) || file;
    const found = await lintFile(file, relative(root, file).split(sep), ajv, skip);
    for (const issue of found.issues) issues.push({ file: display, ...issue });
    if (found.issues.length > 0) failed.add(display);
    if (found.family !== null) {
      const family = versions.get(found.family) ?? [];
      family.push({ file: display, version: found.version! });
      versions.set(found.family, family);
    }
  }
  for (const [family, members] of versions) {
    for (const issue of schemaVerGaps(family, members)) {
      issues.push(issue);
      failed.add(issue.file);
    }
  }
  return { schemas: files.length, failed: failed.size, issues };
}

async function lintFile(file: string, parts: string[], ajv: IgluAjv, skip: Set<string>) {
  const issues: Array<Omit<LintIssue, 'file'>> = [];
  const result = { issues, family: null as string | null, version: null as string | null };
  const structural = (linter: string, message: string, path = '') => issues.push({ linter, level: 'Error', message, path });

  if (parts.length !== 4) structural('path', `not at <vendor>/<name>/<format>/<version> in the repository (found ${parts.join('/')})`);
  const [vendor, name, format, version] = parts.length === 4 ? parts : [];
  if (version !== undefined) {
    if (parseSchemaVer(version) === null) structural('schemaver', `"${version}" is not a SchemaVer (MODEL-REVISION-ADDITION, MODEL >= 1, no leading zeros)`);
    else Object.assign(result, { family: `${vendor}/${name}/${format}`, version });
  }

  let schema: unknown;
  try {
    schema = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    structural('syntax', `not valid JSON: ${(error as Error).message}`);
    return result;
  }
  if (!isObject(schema)) {
    structural('syntax', 'a schema must be a JSON object');
    return result;
  }
  // igluctl first checks the schema against the meta-schema (draft-04 plus the `self` block) and lints
  // only what passes. One issue per place: an `anyOf` in the meta-schema fails once per branch.
  if (!ajv.validate(IGLU_META_SCHEMA_URI, schema)) {
    const byPath = new Map<string, Set<string>>();
    for (const error of ajv.errors ?? []) {
      const messages = byPath.get(error.instancePath) ?? new Set<string>();
      messages.add(error.message ?? 'is invalid');
      byPath.set(error.instancePath, messages);
    }
    for (const [path, messages] of byPath) structural('syntax', `does not match the Iglu meta-schema: ${[...messages].join('; ')}`, path);
    return result;
  }
  // Valid against the meta-schema but still unusable, e.g. a `pattern` that is not a regular expression.
  const { $schema: _metaUri, ...body } = schema;
  try {
    ajv.compile(body);
  } catch (error) {
    structural('syntax', `cannot be compiled: ${(error as Error).message}`);
  } finally {
    ajv.removeSchema(body); // so the next file may reuse an `id`
  }
  const self = schema.self;
  if (isObject(self) && vendor !== undefined) {
    const expected = [self.vendor, self.name, self.format, self.version].join('/');
    if (expected !== parts.join('/')) structural('path', `the file path ${parts.join('/')} does not match the self block ${expected}`, '/self');
  }
  for (const [pointer, sub] of subschemas(schema, '')) {
    for (const [linter, { level, check }] of Object.entries(LINTERS)) {
      if (skip.has(linter)) continue;
      const message = check(sub, pointer);
      if (message !== null) issues.push({ linter, level, message, path: pointer });
    }
  }
  return result;
}

/** SchemaVer: every family starts at 1-0-0 and has no gaps (M-0-0 … for each model, M-R-0 … for each revision). */
function schemaVerGaps(family: string, members: { file: string; version: string }[]): LintIssue[] {
  const present = new Set(members.map((m) => m.version));
  const issues: LintIssue[] = [];
  for (const { file, version } of members) {
    const [model, revision, addition] = parseSchemaVer(version)!;
    const predecessor =
      addition > 0 ? `${model}-${revision}-${addition - 1}` : revision > 0 ? `${model}-${revision - 1}-0` : model > 1 ? `${model - 1}-0-0` : null;
    if (predecessor !== null && !present.has(predecessor)) {
      issues.push({ file, linter: 'schemaver', level: 'Error', message: `${family}/${version} has no ${predecessor} before it (a gap in versions)`, path: '' });
    }
  }
  return issues;
}

/** The schema and every subschema igluctl lints, plus anyOf/allOf/oneOf/not (which igluctl skips). */
function* subschemas(schema: Schema, pointer: string): Generator<[string, Schema]> {
  yield [pointer, schema];
  const children: Array<[string, unknown]> = [];
  for (const keyword of ['properties', 'patternProperties'] as const) {
    if (isObject(schema[keyword])) for (const [key, sub] of Object.entries(schema[keyword])) children.push([`/${keyword}/${escape(key)}`, sub]);
  }
  for (const keyword of ['additionalProperties', 'additionalItems', 'not'] as const) children.push([`/${keyword}`, schema[keyword]]);
  if (Array.isArray(schema.items)) schema.items.forEach((sub, i) => children.push([`/items/${i}`, sub]));
  else children.push(['/items', schema.items]);
  for (const keyword of ['anyOf', 'allOf', 'oneOf'] as const) {
    if (Array.isArray(schema[keyword])) (schema[keyword] as unknown[]).forEach((sub, i) => children.push([`/${keyword}/${i}`, sub]));
  }
  for (const [path, sub] of children) if (isObject(sub)) yield* subschemas(sub, `${pointer}${path}`);
}

/** Every file below `root`, in a stable order; dotfiles are skipped. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && !relative(root, join(entry.parentPath, entry.name)).split(sep).some((part) => part.startsWith('.')))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
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

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
