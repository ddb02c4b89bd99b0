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

/**
 * Finds Iglu schemas in static repositories (`<vendor>/<name>/<format>/<version>`, no extension): the
 * user's folders first, in the order given, then this package's `schemas/`. Each URI is read once.
 */
export class IgluResolver {
  readonly repositories: readonly string[];
  readonly #cache = new Map<string, Resolution>();

  constructor(repositories: readonly string[] = []) {
    this.repositories = [...new Set([...repositories.map((dir) => resolve(dir)), PACKAGE_SCHEMAS])];
  }

  /** The schema for `uri`, or why there is none. Never throws. */
  resolve(uri: string): Resolution {
    let resolution = this.#cache.get(uri);
    if (resolution === undefined) {
      resolution = this.#lookUp(uri);
      this.#cache.set(uri, resolution);
    }
    return resolution;
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
