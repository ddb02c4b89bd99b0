import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createIgluAjv } from './ajv.js';
import { PACKAGE_SCHEMAS } from './package-root.js';
import { parseIgluUri } from './schema-key.js';

/** One repository of an Iglu resolver configuration, as iglu-scala-client reads it. */
export interface RegistryConfig {
  name: string;
  /** Lower is searched first (after vendor-prefix matches and after embedded repositories). */
  priority: number;
  /** Vendors this repository is searched first for (`com.acme` matches `com.acme` and `com.acme.sub`). */
  vendorPrefixes: string[];
  connection: { embedded: { path: string } } | { http: { uri: string; apikey?: string | null } };
}

/** `iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-x` data. */
export interface ResolverConfig {
  /** Schemas (and failed lookups) kept at most. */
  cacheSize: number;
  /** Seconds a lookup is kept; `null`/absent: until it is evicted by size. */
  cacheTtl?: number | null;
  repositories: RegistryConfig[];
}

const RESOLVER_CONFIG = /^iglu:com\.snowplowanalytics\.iglu\/resolver-config\/jsonschema\/1-0-[0-3]$/;

/**
 * Reads a resolver configuration file (self-describing JSON), checks it against its vendored schema, and
 * makes embedded paths absolute (relative ones are taken from the file's folder). Throws an error that
 * names the file and what is wrong.
 */
export async function loadResolverConfig(file: string): Promise<ResolverConfig> {
  const fail = (what: string) => new Error(`resolver config ${file}: ${what}`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'no such file' : (error as Error).message);
  }
  const uri = (json as { schema?: unknown } | null)?.schema;
  if (typeof uri !== 'string' || !RESOLVER_CONFIG.test(uri)) {
    throw fail(`expected self-describing JSON with schema iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0 to 1-0-3, found ${JSON.stringify(uri) ?? 'none'}`);
  }
  const key = parseIgluUri(uri)!;
  const schema = JSON.parse(readFileSync(join(PACKAGE_SCHEMAS, key.vendor, key.name, key.format, key.version), 'utf8')) as Record<string, unknown>;
  const validate = createIgluAjv().compile(schema);
  const data = (json as { data?: unknown }).data;
  if (!validate(data)) {
    const [first] = validate.errors ?? [];
    throw fail(`does not match ${uri}: ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`);
  }
  return withAbsolutePaths(data as ResolverConfig, dirname(resolve(file)));
}

function withAbsolutePaths(config: ResolverConfig, base: string): ResolverConfig {
  const repositories = config.repositories.map((repository) =>
    'embedded' in repository.connection ? { ...repository, connection: { embedded: { path: resolve(base, repository.connection.embedded.path) } } } : repository,
  );
  return { ...config, repositories };
}

/**
 * Micro's environment variables as a repository: `MICRO_IGLU_REGISTRY_URL` (an Iglu Server's `…/api`, or a
 * static repository) and `MICRO_IGLU_API_KEY`. `undefined` when the URL is not set.
 */
export function registryFromEnvironment(env: NodeJS.ProcessEnv = process.env): RegistryConfig | undefined {
  const uri = env.MICRO_IGLU_REGISTRY_URL;
  if (uri === undefined || uri === '') return undefined;
  if (!URL.canParse(uri)) throw new Error(`MICRO_IGLU_REGISTRY_URL must be a URL such as https://registry.example.com/api, got ${JSON.stringify(uri)}`);
  const apikey = env.MICRO_IGLU_API_KEY;
  return { name: 'MICRO_IGLU_REGISTRY_URL', priority: 0, vendorPrefixes: [], connection: { http: { uri, ...(apikey ? { apikey } : {}) } } };
}

/**
 * The repositories in the order iglu-scala-client searches them for `vendor` (Resolver.prioritize): those
 * whose vendor prefix matches first, then embedded before HTTP, then by `priority`.
 */
export function prioritize(repositories: readonly RegistryConfig[], vendor: string): RegistryConfig[] {
  const matches = (r: RegistryConfig) => r.vendorPrefixes.some((prefix) => vendor.startsWith(prefix));
  const classPriority = (r: RegistryConfig) => ('embedded' in r.connection ? 1 : 100);
  return [...repositories].sort((a, b) => Number(matches(b)) - Number(matches(a)) || classPriority(a) - classPriority(b) || a.priority - b.priority);
}

/** How a repository is named in messages: its name and where it is. */
export function describeRegistry(repository: RegistryConfig): string {
  const where = 'embedded' in repository.connection ? repository.connection.embedded.path : repository.connection.http.uri;
  return `registry "${repository.name}" (${where})`;
}
