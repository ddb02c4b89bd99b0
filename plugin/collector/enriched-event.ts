/**
 * The enriched event, as far as it can be made without an enrichment pipeline: the canonical event (the
 * 131 fields of Snowplow's enriched TSV, in their order), its Analytics SDK JSON (entities "shredded" into
 * `contexts_<vendor>_<name>_<model>` columns) and its TSV line. What Micro prints with `--output-json` /
 * `--output-tsv` and answers from `/micro/events`.
 */

/**
 * The enriched event's fields in TSV order (Snowplow's canonical event model), all `null`. Written as a
 * literal so that V8 gives it (and its copies) fast properties: an object of 131 fields built key by key is
 * slow to fill and to serialize.
 */
const NULL_EVENT = {
  app_id: null, platform: null, etl_tstamp: null, collector_tstamp: null, dvce_created_tstamp: null,
  event: null, event_id: null, txn_id: null, name_tracker: null, v_tracker: null, v_collector: null,
  v_etl: null, user_id: null, user_ipaddress: null, user_fingerprint: null, domain_userid: null,
  domain_sessionidx: null, network_userid: null, geo_country: null, geo_region: null, geo_city: null,
  geo_zipcode: null, geo_latitude: null, geo_longitude: null, geo_region_name: null, ip_isp: null,
  ip_organization: null, ip_domain: null, ip_netspeed: null, page_url: null, page_title: null,
  page_referrer: null, page_urlscheme: null, page_urlhost: null, page_urlport: null, page_urlpath: null,
  page_urlquery: null, page_urlfragment: null, refr_urlscheme: null, refr_urlhost: null, refr_urlport: null,
  refr_urlpath: null, refr_urlquery: null, refr_urlfragment: null, refr_medium: null, refr_source: null,
  refr_term: null, mkt_medium: null, mkt_source: null, mkt_term: null, mkt_content: null, mkt_campaign: null,
  contexts: null, se_category: null, se_action: null, se_label: null, se_property: null, se_value: null,
  unstruct_event: null, tr_orderid: null, tr_affiliation: null, tr_total: null, tr_tax: null,
  tr_shipping: null, tr_city: null, tr_state: null, tr_country: null, ti_orderid: null, ti_sku: null,
  ti_name: null, ti_category: null, ti_price: null, ti_quantity: null, pp_xoffset_min: null,
  pp_xoffset_max: null, pp_yoffset_min: null, pp_yoffset_max: null, useragent: null, br_name: null,
  br_family: null, br_version: null, br_type: null, br_renderengine: null, br_lang: null,
  br_features_pdf: null, br_features_flash: null, br_features_java: null, br_features_director: null,
  br_features_quicktime: null, br_features_realplayer: null, br_features_windowsmedia: null,
  br_features_gears: null, br_features_silverlight: null, br_cookies: null, br_colordepth: null,
  br_viewwidth: null, br_viewheight: null, os_name: null, os_family: null, os_manufacturer: null,
  os_timezone: null, dvce_type: null, dvce_ismobile: null, dvce_screenwidth: null, dvce_screenheight: null,
  doc_charset: null, doc_width: null, doc_height: null, tr_currency: null, tr_total_base: null,
  tr_tax_base: null, tr_shipping_base: null, ti_currency: null, ti_price_base: null, base_currency: null,
  geo_timezone: null, mkt_clickid: null, mkt_network: null, etl_tags: null, dvce_sent_tstamp: null,
  refr_domain_userid: null, refr_dvce_tstamp: null, derived_contexts: null, domain_sessionid: null,
  derived_tstamp: null, event_vendor: null, event_name: null, event_format: null, event_version: null,
  event_fingerprint: null, true_tstamp: null,
};

export type EnrichedField = keyof typeof NULL_EVENT;
/** The fields in TSV order. */
export const ENRICHED_FIELDS = Object.keys(NULL_EVENT) as EnrichedField[];

/** An enriched event: every field, `null` where not set. */
export type CanonicalEvent = Record<EnrichedField, unknown>;

/** A canonical event with `fields` set and every other field `null`. */
export function fullEvent(fields: Partial<CanonicalEvent>): CanonicalEvent {
  const event: CanonicalEvent = { ...NULL_EVENT };
  for (const field of Object.keys(fields) as EnrichedField[]) event[field] = fields[field];
  return event;
}

const TIMESTAMP_FIELDS = new Set<string>(['etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp', 'dvce_sent_tstamp', 'refr_dvce_tstamp', 'derived_tstamp', 'true_tstamp']);
const DOUBLE_FIELDS = new Set<string>(['geo_latitude', 'geo_longitude', 'se_value', 'tr_total', 'tr_tax', 'tr_shipping', 'ti_price', 'tr_total_base', 'tr_tax_base', 'tr_shipping_base', 'ti_price_base']);
/** The fields that hold self-describing JSON rather than a value. */
const SELF_DESCRIBING_FIELDS = new Set<string>(['contexts', 'derived_contexts', 'unstruct_event']);
const CONTEXTS_URI = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0';
const UNSTRUCT_URI = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';

interface SelfDescribing {
  schema: string;
  data: unknown;
}

/**
 * The Analytics SDK JSON of an event ("lossy" form), holding only the fields that are not null:
 * atomic fields, then one `contexts_…` array per entity schema (each entity with `_schema_version`, its
 * Iglu URI, as Micro prints it) and one `unstruct_event_…` object. `fullAnalyticsJson` fills in the nulls.
 */
export function analyticsJson(event: Partial<CanonicalEvent>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const field of Object.keys(event) as EnrichedField[]) {
    const value = event[field];
    if (value !== null && value !== undefined && !SELF_DESCRIBING_FIELDS.has(field)) row[field] = value;
  }
  for (const field of ['contexts', 'derived_contexts'] as const) {
    for (const entity of entitiesOf(event[field])) {
      const column = shreddedColumn('contexts_', entity.schema);
      if (column === null) continue;
      const list = (row[column] ??= []) as unknown[];
      list.push({ ...(isObject(entity.data) ? entity.data : { value: entity.data }), _schema_version: entity.schema });
    }
  }
  const unstruct = selfDescribing((event.unstruct_event as { data?: unknown } | null | undefined)?.data);
  const column = unstruct === null ? null : shreddedColumn('unstruct_event_', unstruct.schema);
  if (column !== null) row[column] = unstruct!.data;
  return row;
}

/** The atomic fields, all `null`: copies of it keep fast properties (see `NULL_EVENT`). */
const { contexts: _contexts, derived_contexts: _derived, unstruct_event: _unstruct, ...NULL_ATOMIC } = NULL_EVENT;

/** The Analytics SDK JSON with every atomic field present (null when unknown), as `/micro/events` answers. */
export function fullAnalyticsJson(row: Record<string, unknown>): Record<string, unknown> {
  const full: Record<string, unknown> = { ...NULL_ATOMIC };
  for (const key of Object.keys(row)) full[key] = row[key];
  return full;
}

/** An entity or event column (`contexts_…`, `unstruct_event_…`) or one of its dotted sub-columns. */
export function isShreddedColumn(column: string): boolean {
  return column.startsWith('contexts_') || column.startsWith('unstruct_event_');
}

/**
 * `contexts_com_acme_my_entity_1` from `iglu:com.acme/my_entity/jsonschema/1-0-0` and a prefix, as the
 * Analytics SDKs name the column: dots and dashes become `_`, PascalCase becomes snake_case.
 */
export function shreddedColumn(prefix: 'contexts_' | 'unstruct_event_', uri: string): string | null {
  if (uri.length > MAX_URI_LENGTH) return null; // not an Iglu URI: no column (and nothing of its size is cached)
  const key = `${prefix}${uri}`;
  const known = COLUMN_NAMES.get(key);
  if (known !== undefined) return known;
  if (COLUMN_NAMES.size >= MAX_COLUMN_NAMES) COLUMN_NAMES.clear();
  const name = columnName(prefix, uri);
  COLUMN_NAMES.set(key, name);
  return name;
}

/** Column names by prefix and schema URI: a few schemas name the columns of thousands of events. */
const COLUMN_NAMES = new Map<string, string | null>();
const MAX_COLUMN_NAMES = 1000;
/** Iglu URIs are at most this long (schema-key.ts): longer ones name no column. */
const MAX_URI_LENGTH = 1024;

function columnName(prefix: string, uri: string): string | null {
  const match = /^iglu:([^/]+)\/([^/]+)\/[^/]+\/(\d+)-\d+-\d+$/.exec(uri);
  if (match === null) return null;
  const vendor = match[1]!.replace(/[.-]/g, '_').toLowerCase();
  const name = match[2]!.replace(/[.-]/g, '_').replace(/([^A-Z_])([A-Z])/g, '$1_$2').toLowerCase();
  return `${prefix}${vendor}_${name}_${match[3]}`;
}

/** The enriched TSV line (131 tab-separated fields, no line end), formatted as the Scala Analytics SDK writes it. */
export function enrichedTsv(event: Partial<CanonicalEvent>): string {
  return ENRICHED_FIELDS.map((field) => tsvField(field, event[field])).join('\t');
}

function tsvField(field: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (field === 'contexts' || field === 'derived_contexts') {
    const entities = entitiesOf(value);
    return entities.length === 0 ? '' : JSON.stringify({ schema: CONTEXTS_URI, data: entities });
  }
  if (field === 'unstruct_event') {
    const inner = selfDescribing((value as { data?: unknown }).data);
    return inner === null ? '' : JSON.stringify({ schema: UNSTRUCT_URI, data: inner });
  }
  if (TIMESTAMP_FIELDS.has(field) && typeof value === 'string') return tsvTimestamp(value);
  if (DOUBLE_FIELDS.has(field) && typeof value === 'number') return scalaDouble(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  // A field never holds a tab or line break in the TSV: Enrich would have cleaned them; a tracker may not have.
  return String(value).replace(/[\t\r\n]/g, ' ');
}

/** `2026-01-01T09:00:00.120Z` → `2026-01-01 09:00:00.120` (the fraction in groups of three digits), as Java's ISO_INSTANT without `T` and `Z` prints it. */
function tsvTimestamp(iso: string): string {
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (match === null) return iso;
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const digits = fraction === '' ? '' : `.${fraction.padEnd(Math.ceil(fraction.length / 3) * 3, '0')}`;
  return `${match[1]} ${match[2]}${digits}`;
}

/** A double as Scala's `toString` prints it: `2.0`, `0.5`, `1.0E7`, `1.0E-4`. */
export function scalaDouble(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e7 || magnitude < 1e-3)) {
    const [mantissa, exponent] = value.toExponential().split('e') as [string, string];
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
  }
  const text = String(value);
  return text.includes('.') ? text : `${text}.0`;
}

function entitiesOf(value: unknown): SelfDescribing[] {
  const data = (value as { data?: unknown } | null | undefined)?.data;
  if (!Array.isArray(data)) return [];
  return data.map(selfDescribing).filter((entity): entity is SelfDescribing => entity !== null);
}

function selfDescribing(value: unknown): SelfDescribing | null {
  if (!isObject(value) || typeof value.schema !== 'string') return null;
  return { schema: value.schema, data: value.data };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
