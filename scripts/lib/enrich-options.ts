import { loadEnrichConfig, type EnrichConfig } from '../../plugin/collector/enrich-config.js';
import { isMaxJsonDepth } from '../../plugin/iglu/json-depth.js';
import { MAX_JSON_DEPTH } from '../../plugin/iglu/json.js';
import { UsageError } from './cli.js';

/**
 * Enrich's configuration for `validate` and the collector: the `--config` file's, with `--max-json-depth`
 * and `--accept-invalid` winning over it.
 */
export async function enrichOptionsOf(values: Record<string, unknown>): Promise<EnrichConfig> {
  const config = values.config === undefined ? {} : await loadEnrichConfig(values.config as string);
  const depth = values['max-json-depth'] as string | undefined;
  if (depth !== undefined && !(/^\d+$/.test(depth) && isMaxJsonDepth(Number(depth)))) {
    throw new UsageError(`--max-json-depth must be a whole number from 1 to ${MAX_JSON_DEPTH}, got ${depth}`);
  }
  return {
    ...config,
    maxJsonDepth: depth === undefined ? config.maxJsonDepth : Number(depth),
    acceptInvalid: values['accept-invalid'] === true || config.acceptInvalid === true,
  };
}
