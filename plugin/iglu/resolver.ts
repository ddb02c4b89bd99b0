import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BoundedCache } from './bounded-cache.js';
import { parseJsonExact } from './exact-json.js';
import { PACKAGE_SCHEMAS } from './package-root.js';
import { describeRegistry, prioritize, type RegistryConfig, type ResolverConfig } from './resolver-config.js';
import { compareSchemaVer, parseIgluUri, parseSchemaVer, toIgluUri, type SchemaKey } from './schema-key.js';

export interface ResolvedSchema {
  uri: string;
  key: SchemaKey;
  /** Where the schema was read from: a file, or a registry's URL. */
  file: string;
  schema: Record<string, unknown>;
  /** The version `schema` is, when the schema at `uri` names it in `$supersededBy` (and `schema` is that version's). */
  supersededBy?: string;
}

/** One repository's part in a lookup, as iglu-scala-client's lookup history (and Micro's bad rows) show it. */
export interface RepositoryAttempt {
  repository: string;
  errors: Array<{ error: 'NotFound' | 'RepoFailure' | 'ClientFailure'; message?: string }>;
  attempts: number;
  lastAttempt: string;
}

/** A lookup's outcome. `pending`: only an HTTP registry can still answer; `fetchPending()` asks it. */
export type Resolution =
  | { ok: true; schema: ResolvedSchema }
  | { ok: false; reason: string; lookupHistory: RepositoryAttempt[]; pending?: true };

export interface IgluResolverOptions {
  /** Milliseconds an HTTP registry may take to answer one lookup. Default 5000. */
  registryTimeout?: number;
}

/** Lookups kept without a resolver configuration: URIs come from untrusted input, so every cache is bounded. */
const DEFAULT_CACHE_SIZE = 1000;
/** A schema larger than this from a registry is refused. */
const MAX_SCHEMA_BYTES = 8 * 1024 * 1024;

/** One repository's answer for one schema key. `fatal`: a broken file in a local repository, which ends the lookup. */
type Found = { ok: true; file: string; schema: Record<string, unknown>; supersededBy?: string } | { ok: false; error: RepositoryAttempt['errors'][number]; fatal?: string };

/**
 * Finds Iglu schemas: the static repositories given (`<vendor>/<name>/<format>/<version>`, no extension),
 * then this package's `schemas/` (all of Iglu Central), then a resolver configuration's repositories in
 * iglu-scala-client's order. A schema whose `$supersededBy` names a later version resolves to that version
 * from the same repository, as iglu-scala-client does for validation. Lookups, failed ones too, are cached
 * within the configuration's `cacheSize` and `cacheTtl`. Files are read synchronously; an HTTP registry is
 * asked by `fetchPending()` for the lookups that only it can answer, so validation itself stays synchronous.
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

  /** The schema for `uri` (its superseding version, if it names one), or why there is none. Never throws. */
  resolve(uri: string): Resolution {
    const cached = this.#fresh.get(uri) ?? this.#cache.get(uri);
    if (cached !== undefined) return cached;
    // Not an Iglu URI (any length, from untrusted input): cheap to say again, so never kept.
    if (parseIgluUri(uri) === null) return notIglu(uri);
    const found = this.#lookUpLocally(uri, true);
    if (found.ok || !found.pending) this.#cache.set(uri, found);
    else this.#pending.add(uri);
    return found;
  }

  /**
   * Where `uri` resolves from, asked afresh (no cache) of every repository in order, HTTP registries too: the
   * schema as the first repository that has it stores it (`$supersededBy` not followed, as Micro's
   * `/micro/iglu` answers), or each repository's attempt.
   */
  async lookUp(uri: string): Promise<Resolution> {
    if (parseIgluUri(uri) === null) return notIglu(uri);
    const local = this.#lookUpLocally(uri, false);
    return local.ok || !local.pending ? local : this.#lookUpRemotely(uri, false, local.lookupHistory);
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
        const local = this.#lookUpLocally(uri, true);
        const found = local.ok || !local.pending ? local : await this.#lookUpRemotely(uri, true, local.lookupHistory);
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

  /** The static and embedded repositories, in order; `pending` when HTTP registries are still to be asked. */
  #lookUpLocally(uri: string, supersede: boolean): Resolution {
    const key = parseIgluUri(uri)!;
    const embedded = prioritize(this.registries, key.vendor).flatMap((r) => ('embedded' in r.connection ? [{ name: r.name, dir: join(r.connection.embedded.path, 'schemas') }] : []));
    const history: RepositoryAttempt[] = [];
    for (const { name, dir } of [...this.repositories.map((dir) => ({ name: dir, dir })), ...embedded]) {
      const found = superseding(key, supersede, (k) => readSchemaFile(dir, k, toIgluUri(k)));
      if (found.ok) return resolved(uri, key, found);
      history.push(attempt(name, found.error));
      if (found.fatal !== undefined) return { ok: false, reason: found.fatal, lookupHistory: history };
    }
    const searched = [...this.repositories, ...embedded.map((e) => e.dir)].join(', ');
    if (this.hasRemote) return { ok: false, reason: `schema ${uri} not found in ${searched}; the HTTP registries are still to be asked`, lookupHistory: history, pending: true };
    return { ok: false, reason: withFailures(`schema ${uri} not found in ${searched}`, history), lookupHistory: history };
  }

  /** The HTTP registries in iglu-scala-client's order; the first that has the schema answers. */
  async #lookUpRemotely(uri: string, supersede: boolean, history: RepositoryAttempt[]): Promise<Resolution> {
    const key = parseIgluUri(uri)!;
    const failures: string[] = [];
    const remote = [...history];
    for (const registry of prioritize(this.registries, key.vendor)) {
      if (!('http' in registry.connection)) continue;
      const found = await supersedingAsync(key, supersede, (k) => this.#fetchSchema(registry, k));
      if (found.ok) return resolved(uri, key, found);
      remote.push(attempt(registry.name, found.error));
      failures.push(`${describeRegistry(registry)}: ${found.error.message ?? 'not found'}`);
    }
    return { ok: false, reason: `schema ${uri} not found in ${[...this.repositories].join(', ')}; ${failures.join('; ')}`, lookupHistory: remote };
  }

  async #fetchSchema(registry: RegistryConfig, key: SchemaKey): Promise<Found> {
    const { uri: base, apikey } = (registry.connection as { http: { uri: string; apikey?: string | null } }).http;
    const url = `${base.replace(/\/+$/, '')}/schemas/${key.vendor}/${key.name}/${key.format}/${key.version}`;
    try {
      const response = await fetch(url, { headers: apikey ? { apikey } : {}, signal: AbortSignal.timeout(this.#timeout), redirect: 'follow' });
      if (response.status === 404) {
        await response.body?.cancel();
        return { ok: false, error: { error: 'NotFound' } };
      }
      if (!response.ok) {
        await response.body?.cancel();
        return { ok: false, error: { error: response.status < 500 ? 'ClientFailure' : 'RepoFailure', message: `HTTP ${response.status}` } };
      }
      const text = await response.text();
      if (text.length > MAX_SCHEMA_BYTES) return { ok: false, error: { error: 'RepoFailure', message: `schema larger than ${MAX_SCHEMA_BYTES} bytes` } };
      return parsed(toIgluUri(key), url, text);
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      return { ok: false, error: { error: 'RepoFailure', message: timedOut ? `did not answer within ${this.#timeout} ms` : `unreachable (${causeOf(error)})` } };
    }
  }
}

/**
 * The schema for `key` from one repository, or with `supersede`, its superseding version from the same
 * repository (iglu-scala-client's `Resolver.lookupSchemaResult`): `$supersededBy` must be a SchemaVer above
 * the schema's own; one step is followed.
 */
function superseding(key: SchemaKey, supersede: boolean, get: (key: SchemaKey) => Found): Found {
  const found = get(key);
  if (!found.ok || !supersede) return found;
  const next = supersedingVersion(key, found.schema);
  if (next === null) return found;
  if ('error' in next) return { ok: false, error: next.error };
  const later = get({ ...key, version: next.version });
  return later.ok ? { ...later, supersededBy: next.version } : later;
}

async function supersedingAsync(key: SchemaKey, supersede: boolean, get: (key: SchemaKey) => Promise<Found>): Promise<Found> {
  const found = await get(key);
  if (!found.ok || !supersede) return found;
  const next = supersedingVersion(key, found.schema);
  if (next === null) return found;
  if ('error' in next) return { ok: false, error: next.error };
  const later = await get({ ...key, version: next.version });
  return later.ok ? { ...later, supersededBy: next.version } : later;
}

/** The version a schema's `$supersededBy` names (`null`: none), or why it cannot be followed. */
function supersedingVersion(key: SchemaKey, schema: Record<string, unknown>): { version: string } | { error: RepositoryAttempt['errors'][number] } | null {
  if (!('$supersededBy' in schema)) return null;
  const version = schema.$supersededBy;
  const parts = typeof version === 'string' ? parseSchemaVer(version) : null;
  const path = `${key.vendor}/${key.name}/${key.format}/${key.version}`;
  if (parts === null) return { error: { error: 'ClientFailure', message: `Error while trying to decode superseding version: ${JSON.stringify(version)} is not a SchemaVer` } };
  const own = parseSchemaVer(key.version)!;
  if (compareSchemaVer(parts, own) <= 0) return { error: { error: 'ClientFailure', message: `Superseding version ${version as string} isn't greater than the version of schema ${path}` } };
  return { version: version as string };
}

function readSchemaFile(dir: string, key: SchemaKey, uri: string): Found {
  const file = join(dir, key.vendor, key.name, key.format, key.version);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, error: { error: 'NotFound' } };
    const message = `cannot read schema ${uri} at ${file}: ${(error as Error).message}`;
    return { ok: false, error: { error: 'RepoFailure', message }, fatal: message };
  }
  const found = parsed(uri, file, text);
  return found.ok ? found : { ...found, fatal: found.error.message };
}

function parsed(uri: string, where: string, text: string): Found {
  let schema: unknown;
  try {
    schema = parseJsonExact(text); // keeps constants a double cannot (`maximum: 9223372036854775807`)
  } catch (error) {
    return { ok: false, error: { error: 'RepoFailure', message: `schema ${uri} at ${where} is not valid JSON: ${(error as Error).message}` } };
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return { ok: false, error: { error: 'RepoFailure', message: `schema ${uri} at ${where} is not a JSON object` } };
  return { ok: true, file: where, schema: schema as Record<string, unknown> };
}

function resolved(uri: string, key: SchemaKey, found: Found & { ok: true }): Resolution {
  return { ok: true, schema: { uri, key, file: found.file, schema: found.schema, ...(found.supersededBy === undefined ? {} : { supersededBy: found.supersededBy }) } };
}

function attempt(repository: string, error: RepositoryAttempt['errors'][number]): RepositoryAttempt {
  // A message in a bad row may hold at most 256 characters (schema_violations 2-0-1).
  const bounded = error.message === undefined ? error : { ...error, message: error.message.slice(0, 256) };
  return { repository, errors: [bounded], attempts: 1, lastAttempt: new Date().toISOString() };
}

/** `reason`, plus what went wrong in repositories that did not simply lack the schema (e.g. a bad `$supersededBy`). */
function withFailures(reason: string, history: RepositoryAttempt[]): string {
  const failures = history.flatMap((h) => h.errors.filter((e) => e.error !== 'NotFound').map((e) => `${h.repository}: ${e.message}`));
  return failures.length === 0 ? reason : `${reason}; ${failures.join('; ')}`;
}

function notIglu(uri: string): Resolution {
  return { ok: false, reason: `${preview(uri)} is not an Iglu URI (iglu:vendor/name/format/M-R-A)`, lookupHistory: [] };
}

function preview(uri: string): string {
  const text = JSON.stringify(uri);
  return text.length > 200 ? `${text.slice(0, 200)}…" (${uri.length} characters)` : text;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
