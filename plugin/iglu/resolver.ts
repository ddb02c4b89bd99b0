import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_SCHEMAS } from './package-root.js';
import { parseIgluUri, type SchemaKey } from './schema-key.js';

export interface ResolvedSchema {
  uri: string;
  key: SchemaKey;
  /** The file the schema was read from. */
  file: string;
  schema: Record<string, unknown>;
}

export type Resolution = { ok: true; schema: ResolvedSchema } | { ok: false; reason: string };

/** Failures kept at most: URIs come from untrusted input, so remembering every unknown one would grow for ever. */
const MAX_CACHED_FAILURES = 1000;

/**
 * Remembers lookups: successes for good (one per schema file, a bounded set), failures up to
 * MAX_CACHED_FAILURES, the oldest forgotten first.
 */
export class LookupCache<T extends { ok: boolean }> {
  readonly #successes = new Map<string, T>();
  readonly #failures = new Map<string, T>();

  get(key: string, lookUp: () => T): T {
    const known = this.#successes.get(key) ?? this.#failures.get(key);
    if (known !== undefined) return known;
    const value = lookUp();
    if (value.ok) this.#successes.set(key, value);
    else {
      if (this.#failures.size >= MAX_CACHED_FAILURES) this.#failures.delete(this.#failures.keys().next().value as string);
      this.#failures.set(key, value);
    }
    return value;
  }
}

/**
 * Finds Iglu schemas in static repositories (`<vendor>/<name>/<format>/<version>`, no extension): the
 * user's folders first, in the order given, then this package's `schemas/`. Each URI is read once.
 */
export class IgluResolver {
  readonly repositories: readonly string[];
  readonly #cache = new LookupCache<Resolution>();

  constructor(repositories: readonly string[] = []) {
    this.repositories = [...new Set([...repositories.map((dir) => resolve(dir)), PACKAGE_SCHEMAS])];
  }

  /** The schema for `uri`, or why there is none. Never throws. */
  resolve(uri: string): Resolution {
    return this.#cache.get(uri, () => this.#lookUp(uri));
  }

  #lookUp(uri: string): Resolution {
    const key = parseIgluUri(uri);
    if (key === null) {
      return { ok: false, reason: `${JSON.stringify(uri)} is not an Iglu URI (iglu:vendor/name/format/M-R-A)` };
    }
    for (const repository of this.repositories) {
      const file = join(repository, key.vendor, key.name, key.format, key.version);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        return { ok: false, reason: `cannot read schema ${uri} at ${file}: ${(error as Error).message}` };
      }
      let schema: unknown;
      try {
        schema = JSON.parse(text);
      } catch (error) {
        return { ok: false, reason: `schema ${uri} at ${file} is not valid JSON: ${(error as Error).message}` };
      }
      if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
        return { ok: false, reason: `schema ${uri} at ${file} is not a JSON object` };
      }
      return { ok: true, schema: { uri, key, file, schema: schema as Record<string, unknown> } };
    }
    return { ok: false, reason: `schema ${uri} not found in ${this.repositories.join(', ')}` };
  }
}
