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
 * the alphabet silently, so the alphabet is checked first: garbage is reported, not half-decoded.
 */
export function decodeBase64Json(text: string): { ok: true; value: unknown } | { ok: false; keyword: string; message: string } {
  if (!BASE64.test(text) || text.length % 4 === 1) {
    return { ok: false, keyword: 'base64', message: 'not valid base64' };
  }
  const json = Buffer.from(text, 'base64url').toString('utf8');
  try {
    return { ok: true, value: JSON.parse(json) };
  } catch (error) {
    return { ok: false, keyword: 'json', message: `decoded base64 is not valid JSON (${(error as Error).message})` };
  }
}
