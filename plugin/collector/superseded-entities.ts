/**
 * Superseded schemas in the stored event, as Enrich stores them (snowplow/enrich, `IgluUtils.validateSDJ`):
 * an entity or event validated against its schema's superseding version names that version, and a
 * `validation_info` entity (`originalSchema`, `validatedWith`) joins the derived contexts.
 */
import type { Superseded } from '../iglu/index.js';
import { parseIgluUri, toIgluUri } from '../iglu/schema-key.js';
import { CONTEXTS_SCHEMA, VALIDATION_INFO_SCHEMA } from '../schema-uris.js';

type SelfDescribing = { schema?: unknown; data?: unknown };

/**
 * Rewrites, in the decoded `contexts` and `unstruct` fields of a payload, the schema of each entity and of the
 * event that `superseded` (a validation report's, with paths into the payload) names; returns the
 * `validation_info` entities as a contexts wrapper for `derived_contexts`, the event's first, or `undefined`.
 */
export function supersede(contexts: unknown, unstruct: unknown, superseded: readonly Superseded[]): { schema: string; data: SelfDescribing[] } | undefined {
  if (superseded.length === 0) return undefined;
  const info: SelfDescribing[] = [];
  for (const { path, originalSchema, validatedWith } of superseded) {
    const entity = /^\/(?:co|cx)\/data\/(\d+)\/data$/.exec(path);
    const target = entity !== null ? entityAt(contexts, Number(entity[1])) : /^\/ue_p[rx]\/data\/data$/.test(path) ? entityAt(unstruct, null) : null;
    if (target === null || target.schema !== originalSchema) continue; // a wrapper's own schema: Enrich keeps no info for it
    target.schema = toIgluUri({ ...parseIgluUri(originalSchema)!, version: validatedWith }); // a validated schema's URI parses
    const entry = { schema: VALIDATION_INFO_SCHEMA, data: { originalSchema, validatedWith } };
    if (entity === null) info.unshift(entry);
    else info.push(entry);
  }
  return info.length === 0 ? undefined : { schema: CONTEXTS_SCHEMA, data: info };
}

/** The i-th entity of a contexts wrapper, or (`null`) the event inside an unstruct_event wrapper. */
function entityAt(wrapper: unknown, index: number | null): SelfDescribing | null {
  const data = (wrapper as SelfDescribing | null | undefined)?.data;
  const entity = index === null ? data : Array.isArray(data) ? data[index] : undefined;
  return entity !== null && typeof entity === 'object' && !Array.isArray(entity) ? (entity as SelfDescribing) : null;
}
