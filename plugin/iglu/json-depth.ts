/**
 * Enrich's `maxJsonDepth`: JSON nested deeper than it is a failed event in Snowplow (snowplow/enrich,
 * `JsonUtils.extractJson` on each `co`/`cx`/`ue_pr`/`ue_px` field; iglu-scala-client, `circeToJackson` on
 * each instance it validates and on each schema).
 */
import { MAX_JSON_DEPTH } from './json.js';

/** Enrich's default (its common `reference.conf`), which Snowplow Micro runs with; the streaming apps' configs say 50. */
export const DEFAULT_MAX_JSON_DEPTH = 40;

/**
 * `value` is deeper than `maxDepth` as Snowplow counts depth: every value takes one level, a scalar or an
 * empty object too, and each object or array adds one above its deepest member. So `1` and `{}` are 1 deep,
 * `{"a": 1}` is 2. Recursion stops at `maxDepth`, so the stack it uses is bounded whatever the value.
 */
export function exceedsMaxJsonDepth(value: unknown, maxDepth: number): boolean {
  if (maxDepth <= 0) return true;
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const item of value) if (exceedsMaxJsonDepth(item, maxDepth - 1)) return true;
    return false;
  }
  for (const key in value) if (exceedsMaxJsonDepth((value as Record<string, unknown>)[key], maxDepth - 1)) return true;
  return false;
}

/** A usable `maxJsonDepth`: a whole number from 1 to the hard safety bound (500). */
export function isMaxJsonDepth(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_JSON_DEPTH;
}

/** The `maxJsonDepth` option, checked (`isMaxJsonDepth`); the default when not given. */
export function checkMaxJsonDepth(value: unknown, option = 'maxJsonDepth'): number {
  if (value === undefined) return DEFAULT_MAX_JSON_DEPTH;
  if (!isMaxJsonDepth(value)) {
    throw new RangeError(`snowplow-client-session: ${option} must be a whole number from 1 to ${MAX_JSON_DEPTH}, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/** The issue for JSON over the limit: `schema` null for a tracker field (`co`, `ue_px`, …), else the schema it was to be validated against. */
export function tooDeepForEnrich(path: string, schema: string | null, maxDepth: number) {
  return { path, keyword: 'depth', message: `nested deeper than maxJsonDepth ${maxDepth}: maximum allowed JSON depth exceeded`, schema };
}
