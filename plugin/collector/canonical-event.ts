import type { Superseded } from '../iglu/index.js';
import { decodeEmbeddedJson, type EmbeddedJsonField } from '../iglu/json.js';
import type { CanonicalEvent, EnrichedField } from './enriched-event.js';
import { supersede } from './superseded-entities.js';
import { toTsvSafe } from './tsv-safe.js';

/** What the collector knows of an event beyond its tracker parameters (Micro's collector payload context). */
export interface CollectorContext {
  timestamp: Date;
  ipAddress: string | null;
  userAgent: string | null;
  /** The network user id: the `sp` cookie's, or the one the collector gave. */
  networkUserId: string | null;
}

/** Tracker event codes → the event type and the schema Enrich gives them (`event_vendor/name/format/version`). */
const STANDARD_EVENTS: Record<string, { type: string; schema: string }> = {
  pv: { type: 'page_view', schema: 'iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0' },
  pp: { type: 'page_ping', schema: 'iglu:com.snowplowanalytics.snowplow/page_ping/jsonschema/1-0-0' },
  se: { type: 'struct', schema: 'iglu:com.google.analytics/event/jsonschema/1-0-0' },
  tr: { type: 'transaction', schema: 'iglu:com.snowplowanalytics.snowplow/transaction/jsonschema/1-0-0' },
  ti: { type: 'transaction_item', schema: 'iglu:com.snowplowanalytics.snowplow/transaction_item/jsonschema/1-0-0' },
  ue: { type: 'unstruct', schema: '' },
};

/** Tracker parameters copied as strings into a canonical field, cleaned as Enrich's `toTsvSafe` cleans them (see `RAW_PARAMETERS`). */
const STRING_PARAMETERS: Array<[string, EnrichedField]> = [
  ['aid', 'app_id'], ['p', 'platform'], ['eid', 'event_id'], ['tna', 'name_tracker'], ['tv', 'v_tracker'],
  ['uid', 'user_id'], ['duid', 'domain_userid'], ['sid', 'domain_sessionid'], ['fp', 'user_fingerprint'],
  ['tz', 'os_timezone'], ['lang', 'br_lang'], ['cs', 'doc_charset'], ['cd', 'br_colordepth'],
  ['page', 'page_title'], ['se_ca', 'se_category'], ['se_ac', 'se_action'], ['se_la', 'se_label'], ['se_pr', 'se_property'],
  ['tr_id', 'tr_orderid'], ['tr_af', 'tr_affiliation'], ['tr_ci', 'tr_city'], ['tr_st', 'tr_state'], ['tr_co', 'tr_country'],
  ['tr_cu', 'tr_currency'], ['ti_id', 'ti_orderid'], ['ti_sk', 'ti_sku'], ['ti_nm', 'ti_name'], ['ti_na', 'ti_name'],
  ['ti_ca', 'ti_category'], ['ti_cu', 'ti_currency'],
];
/** Enrich validates these (a UUID, a platform) rather than cleaning them. */
const RAW_PARAMETERS = new Set(['eid', 'p', 'sid']);
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
 * (`fullEvent` makes the rest `null`). Text is cleaned as Enrich stores it (`toTsvSafe`). Entities and the
 * event validated against a superseding schema (`superseded`, from the validation report) name it, and
 * each has a `validation_info` entity in `derived_contexts`, as Enrich does.
 */
export function canonicalEvent(p: Record<string, string>, request: CollectorContext, collectorName: string, superseded: readonly Superseded[] = []): Partial<CanonicalEvent> {
  const event: Partial<CanonicalEvent> = {};
  const set = (field: EnrichedField, value: unknown) => {
    if (value !== null && value !== undefined && event[field] === undefined) event[field] = value;
  };
  for (const [parameter, field] of STRING_PARAMETERS) set(field, RAW_PARAMETERS.has(parameter) ? p[parameter] : toTsvSafe(p[parameter]));
  for (const [parameter, field] of INTEGER_PARAMETERS) set(field, integer(p[parameter]));
  for (const [parameter, field] of DOUBLE_PARAMETERS) set(field, double(p[parameter]));
  const collectorTime = request.timestamp.toISOString();
  const [created, sent, trueTime] = [isoFromMs(p.dtm), isoFromMs(p.stm), isoFromMs(p.ttm)];
  const standard = p.e !== undefined && Object.hasOwn(STANDARD_EVENTS, p.e) ? STANDARD_EVENTS[p.e]! : null;
  const unstruct = standard?.type === 'unstruct' ? (decoded(p, 'ue_pr', 'ue_px') as { data?: { schema?: unknown } } | undefined) : undefined;
  const contexts = decoded(p, 'co', 'cx');
  const validationInfo = supersede(contexts, unstruct, superseded);
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
    user_ipaddress: toTsvSafe(p.ip ?? request.ipAddress),
    useragent: toTsvSafe(p.ua ?? request.userAgent),
    network_userid: toTsvSafe(p.nuid ?? p.tnuid ?? request.networkUserId),
    br_cookies: p.cookie === undefined ? null : p.cookie === '1',
    page_url: toTsvSafe(p.url),
    page_referrer: toTsvSafe(p.refr),
    contexts,
    unstruct_event: unstruct,
    derived_contexts: validationInfo,
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

/** The atomic fields that come from each tracker parameter, for naming the parameter behind a field. */
const FIELD_PARAMETERS: Array<[string, (field: string) => boolean]> = [
  ...STRING_PARAMETERS.map(([parameter, field]): [string, (f: string) => boolean] => [parameter, (f) => f === field]),
  ['url', (f) => f === 'page_url' || f.startsWith('page_url')],
  ['refr', (f) => f === 'page_referrer' || f.startsWith('refr_url')],
  ['ua', (f) => f === 'useragent'],
  ['ip', (f) => f === 'user_ipaddress'],
  ['nuid', (f) => f === 'network_userid'],
  ['tnuid', (f) => f === 'network_userid'],
  ['e', (f) => f === 'event'],
  ['ue_pr', (f) => f.startsWith('event_')],
  ['ue_px', (f) => f.startsWith('event_')],
];

/** The tracker parameter an atomic field was read from, or `null` when the collector set it (a header, its own name). */
export function parameterOf(field: string, p: Record<string, string>): string | null {
  for (const [parameter, from] of FIELD_PARAMETERS) if (p[parameter] !== undefined && from(field)) return parameter;
  return null;
}
