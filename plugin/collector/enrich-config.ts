/**
 * Micro's configuration file (`--config`), as far as this package applies it: Enrich's `maxJsonDepth`,
 * `validation.atomicFieldsLimits` and `acceptInvalid`, and the collector's custom `paths`. Micro reads HOCON
 * with an `enrich` and a `collector` section (each also allowed at the root, as Micro's `namespaced` reads
 * them); this reads the same file when it is written as JSON, which HOCON includes.
 */
import { readFile } from 'node:fs/promises';
import { checkMaxJsonDepth } from '../iglu/json-depth.js';
import { atomicFieldsLimits } from './atomic-fields.js';

export interface EnrichConfig {
  maxJsonDepth?: number;
  /** Overrides of Enrich's default limits (the defaults apply to the other fields). */
  atomicFieldsLimits?: Record<string, number>;
  acceptInvalid?: boolean;
  /** Custom collector paths to the standard ones, e.g. `{"/com.acme/track": "/com.snowplowanalytics.snowplow/tp2"}`. */
  paths?: Record<string, string>;
}

/**
 * Reads `file`. Keys other than these are ignored (a Micro configuration holds many). Throws an error that
 * names the file and the key, and what is allowed.
 */
export async function loadEnrichConfig(file: string): Promise<EnrichConfig> {
  const fail = (what: string) => new Error(`config ${file}: ${what}`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fail('no such file');
    if (error instanceof SyntaxError) throw fail(`not JSON (${error.message}); HOCON-only syntax is not read: write the file as JSON, which Micro reads too`);
    throw fail((error as Error).message);
  }
  const root = objectAt(json, 'the file');
  const enrich = { ...root, ...objectAt(root.enrich ?? {}, 'enrich') };
  const validation = objectAt(enrich.validation ?? {}, 'validation');
  const collector = { ...root, ...objectAt(root.collector ?? {}, 'collector') };
  const config: EnrichConfig = {};
  try {
    const depth = enrich.maxJsonDepth ?? validation.maxJsonDepth;
    if (depth !== undefined) config.maxJsonDepth = checkMaxJsonDepth(depth, 'maxJsonDepth');
    if (validation.atomicFieldsLimits !== undefined) {
      atomicFieldsLimits(validation.atomicFieldsLimits as Record<string, unknown>, 'validation.atomicFieldsLimits');
      config.atomicFieldsLimits = validation.atomicFieldsLimits as Record<string, number>;
    }
  } catch (error) {
    throw fail((error as Error).message.replace(/^snowplow-client-session: /, ''));
  }
  const acceptInvalid = validation.acceptInvalid ?? objectAt(enrich.featureFlags ?? {}, 'featureFlags').acceptInvalid;
  if (acceptInvalid !== undefined) {
    if (typeof acceptInvalid !== 'boolean') throw fail(`validation.acceptInvalid must be true or false, got ${JSON.stringify(acceptInvalid)}`);
    config.acceptInvalid = acceptInvalid;
  }
  if (collector.paths !== undefined) config.paths = checkPaths(collector.paths, fail);
  return config;

  function objectAt(value: unknown, what: string): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail(`${what} must be a JSON object`);
    return value as Record<string, unknown>;
  }
}

/** Custom paths: each a `/vendor/version` path mapped to one of the standard ones. */
export function checkPaths(value: unknown, fail: (what: string) => Error = (what) => new RangeError(`snowplow-client-session: startCollector option ${what}`)): Record<string, string> {
  const pattern = /^\/[^/]+\/[^/]+$/;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail('paths must be an object such as {"/com.acme/track": "/com.snowplowanalytics.snowplow/tp2"}');
  for (const [from, to] of Object.entries(value)) {
    if (!pattern.test(from) || typeof to !== 'string' || !pattern.test(to)) {
      throw fail(`paths: ${JSON.stringify(from)} -> ${JSON.stringify(to)} must map a /vendor/version path to another, such as "/com.acme/track": "/com.snowplowanalytics.snowplow/tp2"`);
    }
  }
  return value as Record<string, string>;
}
