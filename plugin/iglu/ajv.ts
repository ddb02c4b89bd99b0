import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04Module from 'ajv-draft-04';
import ajvFormatsModule from 'ajv-formats';
import { RE2JS } from 're2js';
import { IGLU_META_SCHEMA_URI } from '../schema-uris.js';
import { keepNumberText, numberTextAt } from './exact-json.js';
import { addNumberKeywords, INTEGER_TEXT, type NumberVerdicts } from './number-keywords.js';
import { PACKAGE_SCHEMAS } from './package-root.js';

// Both are CommonJS with the export on `.default` when seen from ESM.
type AjvDraft04Class = typeof AjvDraft04Module.default;
const AjvDraft04 = ((AjvDraft04Module as unknown as { default?: AjvDraft04Class }).default ??
  AjvDraft04Module) as AjvDraft04Class;
type AddFormats = typeof ajvFormatsModule.default;
const addFormats = ((ajvFormatsModule as unknown as { default?: AddFormats }).default ?? ajvFormatsModule) as AddFormats;

export type IgluAjv = InstanceType<AjvDraft04Class>;

/** The Iglu meta-schema: `self` plus draft-04. It has no `id`, so it is registered under its exact URI. */
export const IGLU_META_SCHEMA_FILE = join(PACKAGE_SCHEMAS, 'com.snowplowanalytics.self-desc', 'schema', 'jsonschema', '1-0-0');

/**
 * An Ajv that gives Snowplow's verdicts (iglu-scala-client 4.x on networknt json-schema-validator, what
 * Enrich and Micro run): JSON Schema draft-04, strict types (`"5"` is not an integer), numbers judged as
 * decimals (`multipleOf` exact, `1.0` not an integer: see number-keywords.ts), formats as Snowplow checks
 * them, unknown formats and keywords accepted. Compile schemas through `forSnowplow()`.
 *
 * `numbers`: `exact` (the default) reads the texts `parseJsonExact` keeps; `fast` judges doubles parsed
 * from exact tokens only (the validator's fast path); `plain` is Ajv's own arithmetic on doubles.
 */
export function createIgluAjv(numbers: NumberVerdicts = 'exact'): IgluAjv {
  const ajv = new AjvDraft04({
    allErrors: true,
    verbose: true, // errors carry the offending value, for "expected X, found Y"
    strict: false, // Iglu schemas use keywords and unions that Ajv's strict mode rejects
    allowUnionTypes: true,
    logger: false,
    code: { regExp: linearRegExp },
  });
  for (const keyword of ['self', '$supersededBy', 'examples']) ajv.addKeyword(keyword);
  const meta = JSON.parse(readFileSync(IGLU_META_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  ajv.addMetaSchema(meta, IGLU_META_SCHEMA_URI, false);
  addFormats(ajv);
  for (const [name, validate] of Object.entries(SNOWPLOW_FORMATS)) ajv.addFormat(name, { type: 'string', validate });
  addNumberKeywords(ajv, numbers);
  return ajv;
}

/**
 * `pattern` and `patternProperties` run on RE2 (re2js, a pure-JavaScript port): matching takes linear
 * time, so no schema can stall validation with a catastrophic pattern. RE2 refuses lookarounds and
 * backreferences; a schema using them does not compile (no Iglu Central schema does).
 */
const linearRegExp = Object.assign(
  (pattern: string) => {
    try {
      return RE2JS.compile(pattern);
    } catch (error) {
      throw new Error(`pattern ${JSON.stringify(pattern)} is refused by the linear-time engine (RE2: no lookaround, no backreference): ${(error as Error).message}`);
    }
  },
  { code: 'RE2JS.compile' },
);

/**
 * A copy of `schema` for `createIgluAjv`, as Snowplow's validator reads it: a `type` that allows `integer`
 * but not `number` also gets the JSON-text check, and a `$ref` to an http(s) URI is `{}` (iglu-scala-client
 * resolves none of them: they match anything; under draft-04 a `$ref`'s siblings are ignored anyway). Each
 * such URI is added to `remoteRefs`. The kept texts of numeric constants (`maximum: 9223372036854775807`)
 * are kept on the copy. Depth is the caller's to bound.
 */
export function forSnowplow(schema: unknown, remoteRefs: Set<string> = new Set()): unknown {
  if (Array.isArray(schema)) return schema.map((item) => forSnowplow(item, remoteRefs));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as Record<string, unknown>).$ref;
  if (typeof ref === 'string' && /^https?:\/\//i.test(ref)) {
    remoteRefs.add(ref);
    return {};
  }
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // `enum` and `default` hold data, not subschemas: copied as they are
    copy[key] = key === 'enum' || key === 'default' ? value : forSnowplow(value, remoteRefs);
    const text = typeof value === 'number' ? numberTextAt(schema, key) : undefined;
    if (text !== undefined) keepNumberText(copy, key, text);
  }
  const type = copy.type;
  const allows = (name: string) => type === name || (Array.isArray(type) && type.includes(name));
  if (allows('integer') && !allows('number')) copy[INTEGER_TEXT] = true;
  return copy;
}

// RFC 3339 date-time as ethlo's ITU parser (networknt's) reads it: a full date, `T`, `t` or a space, a
// time, and an offset `Z` or `±hh:mm` (not `-00:00`, "unknown local offset").
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// RFC 1123 host names: labels of 1-63 letters, digits and hyphens, not starting or ending with a hyphen; no trailing dot.
const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** The formats whose rules Snowplow's validator applies differently from ajv-formats' defaults. */
const SNOWPLOW_FORMATS: Record<string, (value: string) => boolean> = {
  'date-time': (value) => {
    const m = DATE_TIME.exec(value);
    if (m === null) return false;
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
    if (m[7] === '-' && m[8] === '00' && m[9] === '00') return false;
    if (m[8] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return false;
    return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 60;
  },
  uuid: (value) => UUID.test(value),
  hostname: (value) => HOSTNAME.test(value),
  'strict-uri': (value) => URL.canParse(value),
};

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
