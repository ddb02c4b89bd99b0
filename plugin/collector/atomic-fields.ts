/**
 * Enrich's atomic-field limits (snowplow/enrich, `AtomicFieldsLengthValidator.scala`, the defaults of
 * `validation.atomicFieldsLimits` in `modules/common/src/main/resources/reference.conf`): a text field of
 * the enriched event longer than its limit makes the event a failed event ("Field is longer than maximum
 * allowed size N"), unless `acceptInvalid`. Lengths are Java string lengths: UTF-16 code units, as
 * JavaScript counts them.
 */
import type { ValidationIssue } from '../iglu/index.js';
import { ATOMIC_SCHEMA } from '../schema-uris.js';
import { canonicalEvent, parameterOf, type CollectorContext } from './canonical-event.js';

/** Enrich's defaults, in its order (every field Enrich checks; none other may be configured). */
export const DEFAULT_ATOMIC_FIELDS_LIMITS: Readonly<Record<string, number>> = Object.freeze({
  app_id: 255, platform: 255, event: 128, event_id: 36, name_tracker: 128, v_tracker: 100, v_collector: 100, v_etl: 100,
  user_id: 255, user_ipaddress: 128, user_fingerprint: 128, domain_userid: 128, network_userid: 128, geo_country: 2,
  geo_region: 3, geo_city: 75, geo_zipcode: 15, geo_region_name: 100, ip_isp: 100, ip_organization: 128, ip_domain: 128,
  ip_netspeed: 100, page_url: 10000, page_title: 2000, page_referrer: 10000, page_urlscheme: 16, page_urlhost: 255,
  page_urlpath: 3000, page_urlquery: 6000, page_urlfragment: 3000, refr_urlscheme: 16, refr_urlhost: 255,
  refr_urlpath: 6000, refr_urlquery: 6000, refr_urlfragment: 3000, refr_medium: 25, refr_source: 50, refr_term: 255,
  mkt_medium: 255, mkt_source: 255, mkt_term: 255, mkt_content: 500, mkt_campaign: 255, se_category: 1000,
  se_action: 1000, se_label: 4096, se_property: 1000, tr_orderid: 255, tr_affiliation: 255, tr_city: 255, tr_state: 255,
  tr_country: 255, ti_orderid: 255, ti_sku: 255, ti_name: 255, ti_category: 255, useragent: 1000, br_name: 50,
  br_family: 50, br_version: 50, br_type: 50, br_renderengine: 50, br_lang: 255, br_colordepth: 12, os_name: 50,
  os_family: 50, os_manufacturer: 50, os_timezone: 255, dvce_type: 50, doc_charset: 128, tr_currency: 3, ti_currency: 3,
  base_currency: 3, geo_timezone: 64, mkt_clickid: 1000, mkt_network: 64, etl_tags: 500, refr_domain_userid: 128,
  domain_sessionid: 128, event_vendor: 1000, event_name: 1000, event_format: 128, event_version: 128, event_fingerprint: 128,
});

/** Enrich's keyword for a field over its limit (`AtomicError.keywordLength`). */
export const ATOMIC_LENGTH_KEYWORD = 'atomic_field_length_exceeded';
/** Enrich keeps these in a failed event (required in loading); it empties the other fields over their limit. */
const KEPT_IN_FAILED_EVENT = new Set(['event_id', 'v_collector', 'v_etl']);

export interface AtomicFieldViolation {
  field: string;
  limit: number;
  value: string;
  /** Enrich's message: `Field is longer than maximum allowed size N`. */
  message: string;
}

/**
 * The limits to apply: Enrich's defaults with `overrides` on top (as a configuration file's
 * `atomicFieldsLimits` falls back on Enrich's `reference.conf`). An unknown field or a limit that is not a
 * whole number >= 0 is an error naming it and what is allowed, as Micro refuses it.
 */
export function atomicFieldsLimits(overrides: Readonly<Record<string, unknown>> = {}, option = 'atomicFieldsLimits'): Record<string, number> {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new RangeError(`snowplow-client-session: ${option} must be an object of field names and lengths, such as {"app_id": 255}`);
  }
  const unknown = Object.keys(overrides).filter((field) => !Object.hasOwn(DEFAULT_ATOMIC_FIELDS_LIMITS, field));
  if (unknown.length > 0) {
    throw new RangeError(`snowplow-client-session: ${option}: fields [${unknown.join(', ')}] are not supported; supported fields: ${Object.keys(DEFAULT_ATOMIC_FIELDS_LIMITS).join(', ')}`);
  }
  for (const [field, limit] of Object.entries(overrides)) {
    if (!Number.isInteger(limit) || (limit as number) < 0) throw new RangeError(`snowplow-client-session: ${option}.${field} must be a whole number >= 0, got ${JSON.stringify(limit)}`);
  }
  return { ...DEFAULT_ATOMIC_FIELDS_LIMITS, ...(overrides as Record<string, number>) };
}

/** The fields of an enriched event longer than their limits, in Enrich's order. */
export function atomicFieldViolations(event: Readonly<Record<string, unknown>>, limits: Readonly<Record<string, number>>): AtomicFieldViolation[] {
  const violations: AtomicFieldViolation[] = [];
  for (const [field, limit] of Object.entries(limits)) {
    const value = event[field];
    if (typeof value === 'string' && value.length > limit) violations.push({ field, limit, value, message: `Field is longer than maximum allowed size ${limit}` });
  }
  return violations;
}

/** The failed event Enrich emits: the fields over their limits emptied, but for those loading needs. */
export function withoutViolations<T extends Record<string, unknown>>(event: T, violations: readonly AtomicFieldViolation[]): T {
  if (violations.length === 0) return event;
  const copy: Record<string, unknown> = { ...event };
  for (const { field } of violations) if (!KEPT_IN_FAILED_EVENT.has(field)) delete copy[field];
  return copy as T;
}

/** What `validate` knows of the collector: nothing but the clock. */
const NO_COLLECTOR: CollectorContext = { timestamp: new Date(0), ipAddress: null, userAgent: null, networkUserId: null };
const PAYLOAD_DATA = /^iglu:com\.snowplowanalytics\.snowplow\/payload_data\/jsonschema\/1-0-\d+$/;

/**
 * The atomic-field limits over the tracker payloads in `instance` (one payload, or a `payload_data` body),
 * as issues that name the field, the limit and the length, at the parameter the field came from (for `validate`).
 */
export function atomicFieldIssues(instance: unknown, limits: Readonly<Record<string, number>>): ValidationIssue[] {
  const record = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!record(instance)) return [];
  const payloads: Array<[string, unknown]> =
    typeof instance.schema === 'string' && PAYLOAD_DATA.test(instance.schema) && Array.isArray(instance.data)
      ? instance.data.map((payload, i) => [`/data/${i}`, payload])
      : 'schema' in instance ? [] : [['', instance]];
  return payloads.flatMap(([prefix, payload]) => {
    if (!record(payload)) return [];
    const parameters = Object.fromEntries(Object.entries(payload).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    return atomicFieldViolations(canonicalEvent(parameters, NO_COLLECTOR, ''), limits).map(({ field, limit, value, message }) => {
      const parameter = parameterOf(field, parameters);
      return { path: `${prefix}${parameter === null ? '' : `/${parameter}`}`, keyword: ATOMIC_LENGTH_KEYWORD, message: `${field}: ${message} (${value.length} characters)`, schema: ATOMIC_SCHEMA };
    });
  });
}
