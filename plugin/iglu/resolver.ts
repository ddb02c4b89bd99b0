import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BoundedCache } from './bounded-cache.js';
import { parseJsonExact } from './exact-json.js';
import { PACKAGE_SCHEMAS } from './package-root.js';
import { describeRegistry, prioritize, type RegistryConfig, type ResolverConfig } from './resolver-config.js';
import { parseIgluUri, type SchemaKey } from './schema-key.js';

export interface ResolvedSchema {
  uri: string;
  key: SchemaKey;
  /** Where the schema was read from: a file, or a registry's URL. */
  file: string;
  schema: Record<string, unknown>;
}

/** A lookup's outcome. `pending`: only an HTTP registry can still answer; `fetchPending()` asks it. */
export type Resolution = { ok: true; schema: ResolvedSchema } | { ok: false; reason: string; pending?: true };

export interface IgluResolverOptions {
  /** Milliseconds an HTTP registry may take to answer one lookup. Default 5000. */
  registryTimeout?: number;
}

/** Lookups kept without a resolver configuration: URIs come from untrusted input, so every cache is bounded. */
const DEFAULT_CACHE_SIZE = 1000;
/** A schema larger than this from a registry is refused. */
const MAX_SCHEMA_BYTES = 8 * 1024 * 1024;

/**
 * Finds Iglu schemas: the static repositories given (`<vendor>/<name>/<format>/<version>`, no extension),
 * then this package's `schemas/` (all of Iglu Central), then a resolver configuration's repositories in
 * iglu-scala-client's order. Lookups, failed ones too, are cached within the configuration's `cacheSize`
 * and `cacheTtl`. Files are read synchronously; an HTTP registry is asked by `fetchPending()` for the
 * lookups that only it can answer, so validation itself stays synchronous.
 */
export class IgluResolver {
  /** The static repositories, searched in this order before the configuration's. */
  readonly repositories: readonly string[];
  readonly registries: readonly RegistryConfig[];
  readonly #cache: BoundedCache<string, Resolution>;
  readonly #pending = new Set<string>();
  /** What the last fetch brought, kept for the validation that asked for it whatever the cache's TTL (see `release`). */
  readonly #fresh = new Map<string, Resolution>();
  readonly #timeout: number;

  constructor(repositories: readonly string[] = [], config?: ResolverConfig, options: IgluResolverOptions = {}) {
    this.repositories = [...new Set([...repositories.map((dir) => resolve(dir)), PACKAGE_SCHEMAS])];
    this.registries = config?.repositories ?? [];
    const ttl = config?.cacheTtl === undefined || config.cacheTtl === null ? null : config.cacheTtl * 1000;
    this.#cache = new BoundedCache(Math.max(1, Math.floor(config?.cacheSize ?? DEFAULT_CACHE_SIZE)), ttl);
    this.#timeout = options.registryTimeout ?? 5000;
  }

  /** Whether some lookups need an HTTP registry (and so `fetchPending()`). */
  get hasRemote(): boolean {
    return this.registries.some((r) => 'http' in r.connection);
  }

  /** Every repository's name, for bad rows' lookup history. */
  get names(): string[] {
    return [...this.repositories, ...this.registries.map((r) => r.name)];
  }

  /** The schema for `uri`, or why there is none. Never throws. */
  resolve(uri: string): Resolution {
    const cached = this.#fresh.get(uri) ?? this.#cache.get(uri);
    if (cached !== undefined) return cached;
    // Not an Iglu URI (any length, from untrusted input): cheap to say again, so never kept.
    if (parseIgluUri(uri) === null) return { ok: false, reason: `${preview(uri)} is not an Iglu URI (iglu:vendor/name/format/M-R-A)` };
    const found = this.#lookUpLocally(uri);
    if (found.ok || !found.pending) this.#cache.set(uri, found);
    else this.#pending.add(uri);
    return found;
  }

  /** Whether a lookup since the last `fetchPending()` waits for an HTTP registry. */
  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  /** Asks the HTTP registries for every pending lookup (each within the registry timeout) and caches the answers. */
  async fetchPending(): Promise<void> {
    const uris = [...this.#pending];
    this.#pending.clear();
    await Promise.all(
      uris.map(async (uri) => {
        const found = await this.#lookUpRemotely(uri);
        this.#cache.set(uri, found);
        this.#fresh.set(uri, found);
      }),
    );
  }

  /** Forgets every lookup (the collector's `/micro/reset`). */
  clear(): void {
    this.#cache.clear();
    this.#fresh.clear();
    this.#pending.clear();
  }

  /** Ends a validation's hold on what its fetches brought: from now on the cache's size and TTL decide. */
  release(): void {
    this.#fresh.clear();
  }

  #lookUpLocally(uri: string): Resolution {
    const key = parseIgluUri(uri);
    if (key === null) return { ok: false, reason: `${JSON.stringify(uri)} is not an Iglu URI (iglu:vendor/name/format/M-R-A)` };
    const embedded = prioritize(this.registries, key.vendor).flatMap((r) => ('embedded' in r.connection ? [join(r.connection.embedded.path, 'schemas')] : []));
    for (const repository of [...this.repositories, ...embedded]) {
      const file = join(repository, key.vendor, key.name, key.format, key.version);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        return { ok: false, reason: `cannot read schema ${uri} at ${file}: ${(error as Error).message}` };
      }
      return parsed(uri, key, file, text);
    }
    const searched = [...this.repositories, ...embedded].join(', ');
    if (this.hasRemote) return { ok: false, reason: `schema ${uri} not found in ${searched}; the HTTP registries are still to be asked`, pending: true };
    return { ok: false, reason: `schema ${uri} not found in ${searched}` };
  }

  /** The HTTP registries in iglu-scala-client's order; the first that has the schema answers. */
  async #lookUpRemotely(uri: string): Promise<Resolution> {
    const key = parseIgluUri(uri)!;
    const failures: string[] = [];
    for (const registry of prioritize(this.registries, key.vendor)) {
      if (!('http' in registry.connection)) continue;
      const { uri: base, apikey } = registry.connection.http;
      const url = `${base.replace(/\/+$/, '')}/schemas/${key.vendor}/${key.name}/${key.format}/${key.version}`;
      try {
        const response = await fetch(url, { headers: apikey ? { apikey } : {}, signal: AbortSignal.timeout(this.#timeout), redirect: 'follow' });
        if (response.status === 404) {
          await response.body?.cancel();
          failures.push(`${describeRegistry(registry)}: not found`);
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel();
          failures.push(`${describeRegistry(registry)}: HTTP ${response.status}`);
          continue;
        }
        const text = await response.text();
        if (text.length > MAX_SCHEMA_BYTES) failures.push(`${describeRegistry(registry)}: schema larger than ${MAX_SCHEMA_BYTES} bytes`);
        else return parsed(uri, key, url, text);
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        const cause = timedOut ? `did not answer within ${this.#timeout} ms` : `unreachable (${causeOf(error)})`;
        failures.push(`${describeRegistry(registry)}: ${cause}`);
      }
    }
    return { ok: false, reason: `schema ${uri} not found in ${[...this.repositories].join(', ')}; ${failures.join('; ')}` };
  }
}

function parsed(uri: string, key: SchemaKey, where: string, text: string): Resolution {
  let schema: unknown;
  try {
    schema = parseJsonExact(text); // keeps constants a double cannot (`maximum: 9223372036854775807`)
  } catch (error) {
    return { ok: false, reason: `schema ${uri} at ${where} is not valid JSON: ${(error as Error).message}` };
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return { ok: false, reason: `schema ${uri} at ${where} is not a JSON object` };
  return { ok: true, schema: { uri, key, file: where, schema: schema as Record<string, unknown> } };
}

function preview(uri: string): string {
  const text = JSON.stringify(uri);
  return text.length > 200 ? `${text.slice(0, 200)}…" (${uri.length} characters)` : text;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
