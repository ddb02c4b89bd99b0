import { decodeEmbeddedJson, type EmbeddedJsonField } from '../iglu/json.js';
import { ENRICHED_FIELDS, type CanonicalEvent } from './enriched-event.js';
import type { RequestInfo } from './events.js';

/** Tracker event codes → the event type and the schema Enrich gives them (`event_vendor/name/format/version`). */
const STANDARD_EVENTS: Record<string, { type: string; schema: string }> = {
  pv: { type: 'page_view', schema: 'iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0' },
  pp: { type: 'page_ping', schema: 'iglu:com.snowplowanalytics.snowplow/page_ping/jsonschema/1-0-0' },
  se: { type: 'struct', schema: 'iglu:com.google.analytics/event/jsonschema/1-0-0' },
  tr: { type: 'transaction', schema: 'iglu:com.snowplowanalytics.snowplow/transaction/jsonschema/1-0-0' },
  ti: { type: 'transaction_item', schema: 'iglu:com.snowplowanalytics.snowplow/transaction_item/jsonschema/1-0-0' },
  ue: { type: 'unstruct', schema: '' },
};

/** Tracker parameters copied as strings into a canonical field. */
const STRING_PARAMETERS: Array<[string, string]> = [
  ['aid', 'app_id'], ['p', 'platform'], ['eid', 'event_id'], ['tna', 'name_tracker'], ['tv', 'v_tracker'],
  ['uid', 'user_id'], ['duid', 'domain_userid'], ['sid', 'domain_sessionid'], ['fp', 'user_fingerprint'],
  ['tz', 'os_timezone'], ['lang', 'br_lang'], ['cs', 'doc_charset'], ['cd', 'br_colordepth'],
  ['page', 'page_title'], ['se_ca', 'se_category'], ['se_ac', 'se_action'], ['se_la', 'se_label'], ['se_pr', 'se_property'],
  ['tr_id', 'tr_orderid'], ['tr_af', 'tr_affiliation'], ['tr_ci', 'tr_city'], ['tr_st', 'tr_state'], ['tr_co', 'tr_country'],
  ['tr_cu', 'tr_currency'], ['ti_id', 'ti_orderid'], ['ti_sk', 'ti_sku'], ['ti_nm', 'ti_name'], ['ti_na', 'ti_name'],
  ['ti_ca', 'ti_category'], ['ti_cu', 'ti_currency'],
];
const INTEGER_PARAMETERS: Array<[string, string]> = [
  ['vid', 'domain_sessionidx'], ['tid', 'txn_id'], ['ti_qu', 'ti_quantity'],
  ['pp_mix', 'pp_xoffset_min'], ['pp_max', 'pp_xoffset_max'], ['pp_miy', 'pp_yoffset_min'], ['pp_may', 'pp_yoffset_max'],
];
const DOUBLE_PARAMETERS: Array<[string, string]> = [
  ['se_va', 'se_value'], ['tr_tt', 'tr_total'], ['tr_tx', 'tr_tax'], ['tr_sh', 'tr_shipping'], ['ti_pr', 'ti_price'],
];

/**
 * The canonical event of a tracker payload, as Enrich makes it with every enrichment off: the payload's
 * fields mapped to their columns, URLs split into parts, sizes into width and height, timestamps as ISO
 * strings, the event's schema into `event_vendor/name/format/version`. Fields nothing sets are `null`.
 */
export function canonicalEvent(p: Record<string, string>, request: RequestInfo, collectorName: string): CanonicalEvent {
  const event = Object.fromEntries(ENRICHED_FIELDS.map((field) => [field, null])) as CanonicalEvent;
  for (const [parameter, field] of STRING_PARAMETERS) if (p[parameter] !== undefined) event[field as keyof CanonicalEvent] = p[parameter];
  for (const [parameter, field] of INTEGER_PARAMETERS) event[field as keyof CanonicalEvent] ??= integer(p[parameter]);
  for (const [parameter, field] of DOUBLE_PARAMETERS) event[field as keyof CanonicalEvent] ??= double(p[parameter]);
  const collectorTime = request.timestamp.toISOString();
  const standard = p.e !== undefined && Object.hasOwn(STANDARD_EVENTS, p.e) ? STANDARD_EVENTS[p.e]! : null;
  const unstruct = decoded(p, 'ue_pr', 'ue_px') as { data?: { schema?: unknown } } | undefined;
  const schema = standard?.type === 'unstruct' ? (typeof unstruct?.data?.schema === 'string' ? unstruct.data.schema : null) : (standard?.schema ?? null);
  Object.assign(event, {
    etl_tstamp: collectorTime,
    collector_tstamp: collectorTime,
    dvce_created_tstamp: isoFromMs(p.dtm),
    dvce_sent_tstamp: isoFromMs(p.stm),
    true_tstamp: isoFromMs(p.ttm),
    event: standard?.type ?? p.e ?? null,
    v_collector: collectorName,
    v_etl: collectorName,
    user_ipaddress: p.ip ?? request.ipAddress,
    useragent: p.ua ?? request.userAgent,
    network_userid: p.nuid ?? p.tnuid ?? request.networkUserId,
    br_cookies: p.cookie === undefined ? null : p.cookie === '1',
    page_url: p.url ?? null,
    page_referrer: p.refr ?? null,
    contexts: decoded(p, 'co', 'cx') ?? null,
    unstruct_event: standard?.type === 'unstruct' ? (unstruct ?? null) : null,
    ...urlParts('page', p.url ?? null),
    ...urlParts('refr', p.refr ?? null),
    ...size(p.res, 'dvce_screenwidth', 'dvce_screenheight'),
    ...size(p.vp, 'br_viewwidth', 'br_viewheight'),
    ...size(p.ds, 'doc_width', 'doc_height'),
    ...schemaParts(schema),
  });
  event.derived_tstamp = derivedTimestamp(event);
  return event;
}

/** Enrich's rule: the true timestamp; else the collector's, less the time the event waited on the device. */
function derivedTimestamp(event: CanonicalEvent): string {
  if (typeof event.true_tstamp === 'string') return event.true_tstamp;
  const collector = Date.parse(event.collector_tstamp as string);
  if (typeof event.dvce_created_tstamp !== 'string' || typeof event.dvce_sent_tstamp !== 'string') return event.collector_tstamp as string;
  const waited = Date.parse(event.dvce_sent_tstamp) - Date.parse(event.dvce_created_tstamp);
  return new Date(collector - Math.max(0, waited)).toISOString();
}

function urlParts(prefix: 'page' | 'refr', text: string | null): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  let url: URL | null = null;
  try {
    url = text === null ? null : new URL(text);
  } catch {
    url = null;
  }
  fields[`${prefix}_urlscheme`] = url?.protocol.replace(/:$/, '') ?? null;
  fields[`${prefix}_urlhost`] = url?.hostname ?? null;
  fields[`${prefix}_urlport`] = url === null ? null : url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : null;
  fields[`${prefix}_urlpath`] = url?.pathname ?? null;
  fields[`${prefix}_urlquery`] = url === null || url.search === '' ? null : url.search.slice(1);
  fields[`${prefix}_urlfragment`] = url === null || url.hash === '' ? null : url.hash.slice(1);
  return fields;
}

function size(text: string | undefined, width: string, height: string): Record<string, number | null> {
  const match = /^(\d+)x(\d+)$/.exec(text ?? '');
  return { [width]: match === null ? null : Number(match[1]), [height]: match === null ? null : Number(match[2]) };
}

function schemaParts(schema: string | null): Record<string, string | null> {
  const parts = schema === null ? [] : schema.slice('iglu:'.length).split('/');
  return { event_vendor: parts[0] ?? null, event_name: parts[1] ?? null, event_format: parts[2] ?? null, event_version: parts[3] ?? null };
}

function decoded(p: Record<string, string>, ...fields: EmbeddedJsonField[]): unknown {
  for (const field of fields) {
    const result = decodeEmbeddedJson(p, field);
    if (result?.ok === true) return result.value;
  }
  return undefined;
}

function integer(text: string | undefined): number | null {
  return text !== undefined && /^-?\d{1,9}$/.test(text) ? Number(text) : null;
}

function double(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

function isoFromMs(value: string | undefined): string | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  const date = new Date(Number(value));
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
