/** An Iglu schema's coordinates: `iglu:<vendor>/<name>/<format>/<version>`. */
export interface SchemaKey {
  vendor: string;
  name: string;
  format: string;
  version: string;
}

const VENDOR = /^[a-zA-Z0-9-_.]+$/;
const NAME_OR_FORMAT = /^[a-zA-Z0-9-_]+$/;
/** Longer URIs are refused: no real schema's vendor and name come near it, and untrusted input may. */
const MAX_URI_LENGTH = 1024;
/** SchemaVer MODEL-REVISION-ADDITION: MODEL >= 1, no leading zeros. */
const SCHEMAVER = /^([1-9][0-9]*)-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/;

export function isSchemaVer(version: string): boolean {
  return SCHEMAVER.test(version);
}

/** `[model, revision, addition]` of a valid SchemaVer, or `null`. */
export function parseSchemaVer(version: string): [number, number, number] | null {
  const match = SCHEMAVER.exec(version);
  return match === null ? null : [Number(match[1]), Number(match[2]), Number(match[3])];
}

/**
 * Parses an Iglu URI. Returns `null` for anything that is not one, including path tricks such as a `..`
 * vendor, so a URI can never point outside a repository.
 */
export function parseIgluUri(uri: unknown): SchemaKey | null {
  if (typeof uri !== 'string' || !uri.startsWith('iglu:') || uri.length > MAX_URI_LENGTH) return null;
  const parts = uri.slice(5).split('/');
  if (parts.length !== 4) return null;
  const [vendor, name, format, version] = parts as [string, string, string, string];
  if (!VENDOR.test(vendor) || vendor.startsWith('.') || !NAME_OR_FORMAT.test(name) || !NAME_OR_FORMAT.test(format)) return null;
  if (!isSchemaVer(version)) return null;
  return { vendor, name, format, version };
}

/** URIs whose parse is remembered; the memory is cleared when full (URIs come from untrusted input). */
const MAX_REMEMBERED_URIS = 1024;
const rememberedUris = new Map<string, SchemaKey | null>();

/** `parseIgluUri` for the hot path: a URI seen before (the same few on every line) is not parsed again. */
export function parseIgluUriCached(uri: unknown): SchemaKey | null {
  if (typeof uri !== 'string' || uri.length > MAX_URI_LENGTH) return null;
  let key = rememberedUris.get(uri);
  if (key === undefined) {
    key = parseIgluUri(uri);
    if (rememberedUris.size >= MAX_REMEMBERED_URIS) rememberedUris.clear();
    rememberedUris.set(uri, key);
  }
  return key;
}

export function toIgluUri(key: SchemaKey): string {
  return `iglu:${key.vendor}/${key.name}/${key.format}/${key.version}`;
}

/** SchemaVer order: MODEL, then REVISION, then ADDITION, numerically. */
export function compareSchemaVer(a: readonly [number, number, number], b: readonly [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
