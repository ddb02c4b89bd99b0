import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04Module from 'ajv-draft-04';
import ajvFormatsModule from 'ajv-formats';
import { IGLU_META_SCHEMA_URI } from '../schema-uris.js';
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
 * An Ajv that validates the way Snowplow's own validator does: JSON Schema draft-04, strict types
 * (`"5"` is not an integer), `date-time` with an offset, unknown formats and unknown keywords accepted.
 */
export function createIgluAjv(): IgluAjv {
  const ajv = new AjvDraft04({
    allErrors: true,
    verbose: true, // errors carry the offending value, for "expected X, found Y"
    strict: false, // Iglu schemas use keywords and unions that Ajv's strict mode rejects
    allowUnionTypes: true,
    logger: false,
  });
  for (const keyword of ['self', '$supersededBy', 'examples']) ajv.addKeyword(keyword);
  const meta = JSON.parse(readFileSync(IGLU_META_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  ajv.addMetaSchema(meta, IGLU_META_SCHEMA_URI, false);
  addFormats(ajv);
  ajv.addFormat('strict-uri', { type: 'string', validate: (value: string) => URL.canParse(value) });
  return ajv;
}
