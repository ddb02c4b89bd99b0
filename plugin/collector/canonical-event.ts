import { decodeEmbeddedJson, type EmbeddedJsonField } from '../iglu/json.js';
import type { CanonicalEvent, EnrichedField } from './enriched-event.js';
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
const STRING_PARAMETERS: Array<[string, EnrichedField]> = [
  ['aid', 'app_id'], ['p', 'platform'], ['eid', 'event_id'], ['tna', 'name_tracker'], ['tv', 'v_tracker'],
  ['uid', 'user_id'], ['duid', 'domain_userid'], ['sid', 'domain_sessionid'], ['fp', 'user_fingerprint'],
  ['tz', 'os_timezone'], ['lang', 'br_lang'], ['cs', 'doc_charset'], ['cd', 'br_colordepth'],
  ['page', 'page_title'], ['se_ca', 'se_category'], ['se_ac', 'se_action'], ['se_la', 'se_label'], ['se_pr', 'se_property'],
  ['tr_id', 'tr_orderid'], ['tr_af', 'tr_affiliation'], ['tr_ci', 'tr_city'], ['tr_st', 'tr_state'], ['tr_co', 'tr_country'],
  ['tr_cu', 'tr_currency'], ['ti_id', 'ti_orderid'], ['ti_sk', 'ti_sku'], ['ti_nm', 'ti_name'], ['ti_na', 'ti_name'],
  ['ti_ca', 'ti_category'], ['ti_cu', 'ti_currency'],
];
const INTEGER_PARAMETERS: Array<[string, EnrichedField]> = [
  ['vid', 'domain_sessionidx'], ['tid', 'txn_id'], ['ti_qu', 'ti_quantity'],
  ['pp_mix', 'pp_xoffset_min'], ['pp_max', 'pp_xoffset_max'], ['pp_miy', 'pp_yoffset_min'], ['pp_may', 'pp_yoffset_max'],
];
const DOUBLE_PARAMETERS: Array<[string, EnrichedField]> = [
  ['se_va', 'se_value'], ['tr_tt', 'tr_total'], ['tr_tx', 'tr_tax'], ['tr_sh', 'tr_shipping'], ['ti_pr', 'ti_price'],
];

/**
 * The canonical event of a tracker payload, as Enrich makes it with every enrichment off: the payload's
 * fields mapped to their columns, URLs split into parts, sizes into width and height, timestamps as ISO
 * strings, the event's schema into `event_vendor/name/format/version`. Only the fields that are set
 * (`fullEvent` makes the rest `null`).
 */
export function canonicalEvent(p: Record<string, string>, request: RequestInfo, collectorName: string): Partial<CanonicalEvent> {
  const event: Partial<CanonicalEvent> = {};
  const set = (field: EnrichedField, value: unknown) => {
    if (value !== null && value !== undefined && event[field] === undefined) event[field] = value;
  };
  for (const [parameter, field] of STRING_PARAMETERS) set(field, p[parameter]);
  for (const [parameter, field] of INTEGER_PARAMETERS) set(field, integer(p[parameter]));
  for (const [parameter, field] of DOUBLE_PARAMETERS) set(field, double(p[parameter]));
  const collectorTime = request.timestamp.toISOString();
  const [created, sent, trueTime] = [isoFromMs(p.dtm), isoFromMs(p.stm), isoFromMs(p.ttm)];
  const standard = p.e !== undefined && Object.hasOwn(STANDARD_EVENTS, p.e) ? STANDARD_EVENTS[p.e]! : null;
  const unstruct = standard?.type === 'unstruct' ? (decoded(p, 'ue_pr', 'ue_px') as { data?: { schema?: unknown } } | undefined) : undefined;
  const schema = standard?.type === 'unstruct' ? (typeof unstruct?.data?.schema === 'string' ? unstruct.data.schema : null) : (standard?.schema ?? null);
  const fields: Partial<Record<EnrichedField, unknown>> = {
    etl_tstamp: collectorTime,
    collector_tstamp: collectorTime,
    dvce_created_tstamp: created,
    dvce_sent_tstamp: sent,
    true_tstamp: trueTime,
    event: standard?.type ?? p.e,
    v_collector: collectorName,
    v_etl: collectorName,
    user_ipaddress: p.ip ?? request.ipAddress,
    useragent: p.ua ?? request.userAgent,
    network_userid: p.nuid ?? p.tnuid ?? request.networkUserId,
    br_cookies: p.cookie === undefined ? null : p.cookie === '1',
    page_url: p.url,
    page_referrer: p.refr,
    contexts: decoded(p, 'co', 'cx'),
    unstruct_event: unstruct,
    ...urlParts('page', p.url),
    ...urlParts('refr', p.refr),
    ...size(p.res, 'dvce_screenwidth', 'dvce_screenheight'),
    ...size(p.vp, 'br_viewwidth', 'br_viewheight'),
    ...size(p.ds, 'doc_width', 'doc_height'),
    ...schemaParts(schema),
  };
  for (const field of Object.keys(fields) as EnrichedField[]) set(field, fields[field]);
  // Enrich's rule: the true timestamp; else the collector's, less the time the event waited on the device.
  const waited = created !== null && sent !== null ? Math.max(0, Number(p.stm) - Number(p.dtm)) : 0;
  set('derived_tstamp', trueTime ?? (waited === 0 ? collectorTime : new Date(request.timestamp.getTime() - waited).toISOString()));
  return event;
}

function urlParts(prefix: 'page' | 'refr', text: string | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (text === undefined) return fields;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fields;
  }
  fields[`${prefix}_urlscheme`] = url.protocol.replace(/:$/, '');
  fields[`${prefix}_urlhost`] = url.hostname;
  fields[`${prefix}_urlport`] = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : null;
  fields[`${prefix}_urlpath`] = url.pathname;
  fields[`${prefix}_urlquery`] = url.search === '' ? null : url.search.slice(1);
  fields[`${prefix}_urlfragment`] = url.hash === '' ? null : url.hash.slice(1);
  return fields;
}

function size(text: string | undefined, width: string, height: string): Record<string, number> {
  const match = text === undefined ? null : /^(\d+)x(\d+)$/.exec(text);
  return match === null ? {} : { [width]: Number(match[1]), [height]: Number(match[2]) };
}

function schemaParts(schema: string | null): Record<string, string | undefined> {
  const parts = schema === null ? [] : schema.slice('iglu:'.length).split('/');
  return { event_vendor: parts[0], event_name: parts[1], event_format: parts[2], event_version: parts[3] };
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
