// Fixtures for Enrich's rules beyond JSON Schema (maxJsonDepth, superseded schemas), shared by the Iglu
// module's, the collector's and `validate`'s tests.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IGLU_META_SCHEMA_URI } from '../../plugin/schema-uris.js';

/** A schema that accepts anything (Iglu Central's): depth is the only rule that applies to its data. */
export const ANYTHING = 'iglu:com.snowplowanalytics.iglu/anything-a/jsonschema/1-0-0';
export const THING = 'iglu:com.acme/thing/jsonschema/1-0-0';

/** `levels` objects nested in one another around a scalar: Snowplow counts it `levels + 1` deep. */
export const nested = (levels: number): unknown => (levels === 0 ? 1 : { a: nested(levels - 1) });

/** A version of `com.acme/thing`. */
export const thingSchema = (version: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  $schema: IGLU_META_SCHEMA_URI,
  self: { vendor: 'com.acme', name: 'thing', format: 'jsonschema', version },
  type: 'object',
  properties,
  ...extra,
});

/** 1-0-0 says it is superseded by 1-0-1, which makes `n` an integer and required; by Iglu URI. */
export const SUPERSEDED: Record<string, object> = {
  [THING]: thingSchema('1-0-0', { n: {} }, { $supersededBy: '1-0-1' }),
  'iglu:com.acme/thing/jsonschema/1-0-1': thingSchema('1-0-1', { n: { type: 'integer' } }, { required: ['n'] }),
};

/** Writes `schemas` (by Iglu URI) as a static Iglu repository in `dir`; resolves with `dir`. */
export async function staticRepository(dir: string, schemas: Record<string, unknown>): Promise<string> {
  for (const [uri, schema] of Object.entries(schemas)) {
    const file = join(dir, ...uri.slice('iglu:'.length).split('/'));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(schema));
  }
  return dir;
}
