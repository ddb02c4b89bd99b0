/**
 * The enriched event, as far as it can be made without an enrichment pipeline: the canonical event (the
 * 131 fields of Snowplow's enriched TSV, in their order), its Analytics SDK JSON (entities "shredded" into
 * `contexts_<vendor>_<name>_<model>` columns) and its TSV line. What Micro prints with `--output-json` /
 * `--output-tsv` and answers from `/micro/events`.
 */

/** The enriched event's fields in TSV order (Snowplow's canonical event model). */
export const ENRICHED_FIELDS = [
  'app_id', 'platform', 'etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp', 'event', 'event_id', 'txn_id',
  'name_tracker', 'v_tracker', 'v_collector', 'v_etl', 'user_id', 'user_ipaddress', 'user_fingerprint',
  'domain_userid', 'domain_sessionidx', 'network_userid', 'geo_country', 'geo_region', 'geo_city', 'geo_zipcode',
  'geo_latitude', 'geo_longitude', 'geo_region_name', 'ip_isp', 'ip_organization', 'ip_domain', 'ip_netspeed',
  'page_url', 'page_title', 'page_referrer', 'page_urlscheme', 'page_urlhost', 'page_urlport', 'page_urlpath',
  'page_urlquery', 'page_urlfragment', 'refr_urlscheme', 'refr_urlhost', 'refr_urlport', 'refr_urlpath',
  'refr_urlquery', 'refr_urlfragment', 'refr_medium', 'refr_source', 'refr_term', 'mkt_medium', 'mkt_source',
  'mkt_term', 'mkt_content', 'mkt_campaign', 'contexts', 'se_category', 'se_action', 'se_label', 'se_property',
  'se_value', 'unstruct_event', 'tr_orderid', 'tr_affiliation', 'tr_total', 'tr_tax', 'tr_shipping', 'tr_city',
  'tr_state', 'tr_country', 'ti_orderid', 'ti_sku', 'ti_name', 'ti_category', 'ti_price', 'ti_quantity',
  'pp_xoffset_min', 'pp_xoffset_max', 'pp_yoffset_min', 'pp_yoffset_max', 'useragent', 'br_name', 'br_family',
  'br_version', 'br_type', 'br_renderengine', 'br_lang', 'br_features_pdf', 'br_features_flash',
  'br_features_java', 'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies', 'br_colordepth',
  'br_viewwidth', 'br_viewheight', 'os_name', 'os_family', 'os_manufacturer', 'os_timezone', 'dvce_type',
  'dvce_ismobile', 'dvce_screenwidth', 'dvce_screenheight', 'doc_charset', 'doc_width', 'doc_height',
  'tr_currency', 'tr_total_base', 'tr_tax_base', 'tr_shipping_base', 'ti_currency', 'ti_price_base',
  'base_currency', 'geo_timezone', 'mkt_clickid', 'mkt_network', 'etl_tags', 'dvce_sent_tstamp',
  'refr_domain_userid', 'refr_dvce_tstamp', 'derived_contexts', 'domain_sessionid', 'derived_tstamp',
  'event_vendor', 'event_name', 'event_format', 'event_version', 'event_fingerprint', 'true_tstamp',
] as const;

export type EnrichedField = (typeof ENRICHED_FIELDS)[number];
export type CanonicalEvent = Record<EnrichedField, unknown>;

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
  for (const field of ENRICHED_FIELDS) {
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

/** The Analytics SDK JSON with every atomic field present (null when unknown), as `/micro/events` answers. */
export function fullAnalyticsJson(row: Record<string, unknown>): Record<string, unknown> {
  const full: Record<string, unknown> = {};
  for (const field of ENRICHED_FIELDS) if (!SELF_DESCRIBING_FIELDS.has(field)) full[field] = row[field] ?? null;
  for (const [key, value] of Object.entries(row)) if (!(key in full)) full[key] = value;
  return full;
}

/**
 * `contexts_com_acme_my_entity_1` from `iglu:com.acme/my_entity/jsonschema/1-0-0` and a prefix, as the
 * Analytics SDKs name the column: dots and dashes become `_`, PascalCase becomes snake_case.
 */
export function shreddedColumn(prefix: 'contexts_' | 'unstruct_event_', uri: string): string | null {
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

/** `2026-01-01T09:00:00.120Z` → `2026-01-01 09:00:00.12`, as Java's ISO_INSTANT without `T` and `Z` prints it. */
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
