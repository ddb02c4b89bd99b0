import { parseJsonExact } from './exact-json.js';

/** JSON Schema's name for the type of a parsed JSON value (`integer` for whole numbers). */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

// Standard or URL-safe alphabet, optional padding: what trackers send in `cx` and `ue_px`.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Decodes a base64 (standard or URL-safe) field that holds JSON. Node's decoder skips characters outside
 * the alphabet silently, so the alphabet is checked first: garbage is reported, not half-decoded. `text` is
 * the JSON text the value was parsed from.
 */
export type Decoded = { ok: true; value: unknown; text: string } | { ok: false; keyword: 'json' | 'base64'; message: string };

/** How a decoded JSON text is parsed: `parseJsonExact` (numbers' texts kept where needed) or `JSON.parse`. */
export type JsonParser = (text: string) => unknown;

export function decodeBase64Json(text: string, parse: JsonParser = parseJsonExact): Decoded {
  if (!BASE64.test(text) || text.length % 4 === 1) {
    return { ok: false, keyword: 'base64', message: 'not valid base64' };
  }
  const json = Buffer.from(text, 'base64url').toString('utf8');
  try {
    return { ok: true, value: parse(json), text: json };
  } catch (error) {
    return { ok: false, keyword: 'json', message: `decoded base64 is not valid JSON (${(error as Error).message})` };
  }
}

export function parseJson(text: string, parse: JsonParser = parseJsonExact): Decoded {
  try {
    return { ok: true, value: parse(text), text };
  } catch (error) {
    return { ok: false, keyword: 'json', message: `not valid JSON (${(error as Error).message})` };
  }
}

/** The tracker payload fields that carry JSON: contexts (`co` plain, `cx` base64) and the event (`ue_pr`, `ue_px`). */
export const EMBEDDED_JSON_FIELDS = ['co', 'cx', 'ue_pr', 'ue_px'] as const;
export type EmbeddedJsonField = (typeof EMBEDDED_JSON_FIELDS)[number];

/** The decoded JSON of one of those fields, `undefined` when the payload does not have it as a string. */
export function decodeEmbeddedJson(payload: Record<string, unknown>, field: EmbeddedJsonField, parse: JsonParser = parseJsonExact): Decoded | undefined {
  const text = payload[field];
  if (typeof text !== 'string') return undefined;
  return field === 'cx' || field === 'ue_px' ? decodeBase64Json(text, parse) : parseJson(text, parse);
}

/** Instances and schemas nested deeper than this get a "too deep" verdict instead of a check that could exhaust the stack. */
export const MAX_JSON_DEPTH = 500;

/**
 * `value` nests objects and arrays deeper than `max` levels. Recursion stops at `max`, so the stack it
 * uses is bounded whatever the value; nothing is allocated (it runs on every instance).
 */
export function isDeeperThan(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (max === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (isDeeperThan(item, max - 1)) return true;
    return false;
  }
  for (const key in value) if (isDeeperThan((value as Record<string, unknown>)[key], max - 1)) return true;
  return false;
}

/** A key as a JSON Pointer segment (`~` → `~0`, `/` → `~1`). */
export function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
