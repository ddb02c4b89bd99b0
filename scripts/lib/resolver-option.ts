import { loadResolverConfig, registryFromEnvironment, type ResolverConfig } from '../../plugin/iglu/resolver-config.js';

/**
 * The `--resolver FILE` option's configuration, plus Snowplow Micro's MICRO_IGLU_REGISTRY_URL /
 * MICRO_IGLU_API_KEY registry when `env` is given (the collector). `undefined` when neither is set. A file
 * that cannot be read or does not match its schema throws an error naming it (exit 2).
 */
export async function resolverConfigOf(file: string | undefined, env?: NodeJS.ProcessEnv): Promise<ResolverConfig | undefined> {
  const config = file === undefined ? undefined : await loadResolverConfig(file);
  const fromEnv = env === undefined ? undefined : registryFromEnvironment(env);
  if (fromEnv === undefined) return config;
  return { cacheSize: config?.cacheSize ?? 500, cacheTtl: config?.cacheTtl ?? null, repositories: [...(config?.repositories ?? []), fromEnv] };
}
