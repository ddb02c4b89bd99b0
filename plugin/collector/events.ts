import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IgluValidator, ValidationIssue } from '../iglu/index.js';
import { decodeEmbeddedJson, EMBEDDED_JSON_FIELDS } from '../iglu/json.js';
import { packageRoot } from '../iglu/package-root.js';
import { SCHEMA_VIOLATIONS_SCHEMA } from '../schema-uris.js';

const VERSION = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
const COLLECTOR_NAME = `snowplow-client-session-${VERSION}`;

/** What the collector saw of the HTTP request an event came in. */
export interface RequestInfo {
  timestamp: Date;
  ipAddress: string;
  userAgent: string | null;
  refererUri: string | null;
  headers: string[];
  contentType: string | null;
  hostname: string;
  path: string;
  querystring: string | null;
  body: string | null;
  /** The `sp` cookie's network user id, when the request carried one. */
  networkUserId: string | null;
}

/** Micro's RawEvent: the event as a collector hands it to enrichment. */
export interface RawEvent {
  api: { vendor: string; version: string };
  parameters: Record<string, string>;
  contentType: string | null;
  source: { name: string; encoding: string; hostname: string };
  context: { timestamp: string; ipAddress: string; useragent: string | null; refererUri: string | null; headers: string[]; userId: string | null };
}

/** Micro's GoodEvent. `event` holds the canonical fields that need no enrichment pipeline. */
export interface GoodEvent {
  rawEvent: RawEvent;
  eventType: string | null;
  schema: string | null;
  contexts: string[];
  event: Record<string, unknown>;
  incomplete: false;
}

/** Micro's BadEvent: `errors[0]` is Micro's fixed sentence, the rest are schema_violations bad rows as JSON strings. */
export interface BadEvent {
  collectorPayload: Record<string, unknown>;
  rawEvent: RawEvent | null;
  errors: string[];
}

export const BAD_EVENT_HEADLINE = 'Error while validating the event.';

const EVENT_TYPES: Record<string, string> = {
  pv: 'page_view',
  pp: 'page_ping',
  se: 'struct',
  ue: 'unstruct',
  tr: 'transaction',
  ti: 'transaction_item',
};

/** Validates one tracker payload and turns it into Micro's good event or bad event. */
export function processPayload(
  payload: unknown,
  payloadSchema: string,
  request: RequestInfo,
  validator: IgluValidator,
): { good: GoodEvent } | { bad: BadEvent } {
  const report = validator.validatePayload(payload, payloadSchema);
  const parameters = stringParameters(payload);
  const rawEvent = parameters === null ? null : toRawEvent(parameters, request);
  if (!report.valid || rawEvent === null) {
    const body = safeStringify({ schema: payloadSchema, data: [payload] });
    return { bad: badEvent({ ...request, body }, rawEvent, report.errors, validator) };
  }
  return { good: toGoodEvent(rawEvent, request) };
}

/** A bad event for a whole request that holds no usable payload (not JSON, not payload_data, …). */
export function badRequest(request: RequestInfo, issues: ValidationIssue[], validator: IgluValidator): BadEvent {
  return badEvent(request, null, issues, validator);
}

function toRawEvent(parameters: Record<string, string>, request: RequestInfo): RawEvent {
  return {
    api: { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' },
    parameters,
    contentType: request.contentType,
    source: { name: COLLECTOR_NAME, encoding: 'UTF-8', hostname: request.hostname },
    context: {
      timestamp: request.timestamp.toISOString(),
      ipAddress: request.ipAddress,
      useragent: request.userAgent,
      refererUri: request.refererUri,
      headers: request.headers,
      userId: request.networkUserId,
    },
  };
}

function toGoodEvent(rawEvent: RawEvent, request: RequestInfo): GoodEvent {
  const p = rawEvent.parameters;
  const contexts = [decoded(p, 'co'), decoded(p, 'cx')].find((c) => c !== undefined) as { data?: Array<{ schema?: string }> } | undefined;
  const unstruct = [decoded(p, 'ue_pr'), decoded(p, 'ue_px')].find((u) => u !== undefined) as { data?: { schema?: string } } | undefined;
  const eventType = p.e === undefined ? null : Object.hasOwn(EVENT_TYPES, p.e) ? EVENT_TYPES[p.e]! : p.e; // e=constructor is not a type
  const schema = eventType === 'unstruct' ? (unstruct?.data?.schema ?? null) : null;
  const vendorParts = schema?.slice(5).split('/') ?? [];
  return {
    rawEvent,
    eventType,
    schema,
    contexts: (contexts?.data ?? []).map((entity) => entity.schema ?? '').filter(Boolean),
    event: {
      app_id: p.aid ?? null,
      platform: p.p ?? null,
      collector_tstamp: request.timestamp.toISOString(),
      dvce_created_tstamp: isoFromMs(p.dtm),
      dvce_sent_tstamp: isoFromMs(p.stm),
      true_tstamp: isoFromMs(p.ttm),
      event: eventType,
      event_id: p.eid ?? null,
      name_tracker: p.tna ?? null,
      v_tracker: p.tv ?? null,
      v_collector: COLLECTOR_NAME,
      user_id: p.uid ?? null,
      user_ipaddress: p.ip ?? request.ipAddress,
      useragent: p.ua ?? request.userAgent,
      domain_userid: p.duid ?? null,
      domain_sessionidx: p.vid === undefined ? null : Number(p.vid),
      domain_sessionid: p.sid ?? null,
      network_userid: p.nuid ?? p.tnuid ?? request.networkUserId,
      os_timezone: p.tz ?? null,
      br_lang: p.lang ?? null,
      page_url: p.url ?? null,
      page_title: p.page ?? null,
      page_referrer: p.refr ?? null,
      se_category: p.se_ca ?? null,
      se_action: p.se_ac ?? null,
      se_label: p.se_la ?? null,
      se_property: p.se_pr ?? null,
      se_value: p.se_va === undefined ? null : Number(p.se_va),
      event_vendor: vendorParts[0] ?? null,
      event_name: vendorParts[1] ?? null,
      event_format: vendorParts[2] ?? null,
      event_version: vendorParts[3] ?? null,
      contexts: contexts ?? null,
      unstruct_event: unstruct ?? null,
    },
    incomplete: false,
  };
}

function badEvent(request: RequestInfo, rawEvent: RawEvent | null, issues: ValidationIssue[], validator: IgluValidator): BadEvent {
  const badRow = {
    schema: SCHEMA_VIOLATIONS_SCHEMA,
    data: {
      processor: { artifact: 'snowplow-client-session', version: VERSION },
      failure: { timestamp: request.timestamp.toISOString(), messages: failureMessages(issues, validator, request.timestamp) },
      payload: { raw: rawPayload(rawEvent, request) },
    },
  };
  return {
    collectorPayload: {
      schema: 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0',
      ipAddress: request.ipAddress,
      timestamp: request.timestamp.getTime(),
      encoding: 'UTF-8',
      collector: COLLECTOR_NAME,
      userAgent: request.userAgent,
      refererUri: request.refererUri,
      path: request.path,
      querystring: request.querystring,
      body: request.body,
      headers: request.headers,
      contentType: request.contentType,
      hostname: request.hostname,
      networkUserId: request.networkUserId,
    },
    rawEvent,
    errors: [BAD_EVENT_HEADLINE, JSON.stringify(badRow)],
  };
}

/** The bad row's failure messages, in the shapes schema_violations 2-0-1 allows: one per failing schema. */
function failureMessages(issues: ValidationIssue[], validator: IgluValidator, at: Date): unknown[] {
  const messages: unknown[] = [];
  const reports = new Map<string, Array<{ message: string; path: string; keyword: string; targets: string[] | null }>>();
  for (const issue of issues) {
    const field = issue.path.slice(issue.path.lastIndexOf('/') + 1);
    if (issue.keyword === 'json' || issue.keyword === 'base64') {
      messages.push({ field: field.slice(0, 64), value: null, error: issue.message });
    } else if (issue.keyword === 'iglu' && issue.schema === null) {
      messages.push({ json: null, error: issue.message.includes('Iglu URI') ? 'INVALID_IGLUURI' : 'INVALID_DATA_PAYLOAD' });
    } else if (issue.keyword === 'iglu') {
      const lookupHistory = validator.resolver.names.map((repository) => ({
        repository,
        errors: [{ error: 'NotFound' }],
        attempts: 1,
        lastAttempt: at.toISOString(),
      }));
      messages.push({ schemaKey: issue.schema, error: { error: 'ResolutionError', lookupHistory } });
    } else if (issue.keyword === 'schema') {
      messages.push({ schemaKey: issue.schema, error: { error: 'ValidationError', schemaIssues: [{ path: '$', message: issue.message }] } });
    } else {
      const path = toJsonPath(issue.dataPath ?? '');
      const list = reports.get(issue.schema!) ?? [];
      list.push({ message: `${path}: ${issue.message}`, path, keyword: issue.keyword, targets: targetsOf(issue) });
      reports.set(issue.schema!, list);
    }
  }
  for (const [schemaKey, dataReports] of reports) messages.push({ schemaKey, error: { error: 'ValidationError', dataReports } });
  return messages;
}

/** Micro's `targets`: for a type error the type found then the types expected; the property for presence errors. */
function targetsOf(issue: ValidationIssue): string[] | null {
  if (issue.keyword === 'type' && issue.found !== undefined && issue.expected !== undefined) return [issue.found, ...issue.expected.split(' or ')];
  if (issue.keyword === 'required' || issue.keyword === 'additionalProperties') {
    return [decodePointerSegment((issue.dataPath ?? '').slice((issue.dataPath ?? '').lastIndexOf('/') + 1))];
  }
  return null;
}

/** `/a/0/b c` → `$.a[0]['b c']`, the path style of Snowplow's data reports. */
export function toJsonPath(pointer: string): string {
  if (pointer === '') return '$';
  return `$${pointer
    .slice(1)
    .split('/')
    .map(decodePointerSegment)
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : /^[A-Za-z_$][\w$]*$/.test(segment) ? `.${segment}` : `['${segment.replace(/'/g, "\\'")}']`))
    .join('')}`;
}

function decodePointerSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The bad row's `payload.raw`; parameter values are cut to the schema's 512 characters. */
function rawPayload(rawEvent: RawEvent | null, request: RequestInfo) {
  return {
    vendor: 'com.snowplowanalytics.snowplow',
    version: 'tp2',
    parameters: rawEvent === null ? null : Object.entries(rawEvent.parameters).map(([name, value]) => ({ name: name.slice(0, 512), value: value.slice(0, 512) })),
    contentType: request.contentType?.slice(0, 256) ?? null,
    loaderName: 'snowplow-client-session',
    encoding: 'UTF-8',
    hostname: request.hostname.slice(0, 8192),
    timestamp: request.timestamp.toISOString(),
    ipAddress: request.ipAddress.slice(0, 128),
    useragent: request.userAgent?.slice(0, 4096) ?? null,
    refererUri: request.refererUri?.slice(0, 8192) ?? null,
    headers: request.headers.map((h) => h.slice(0, 8192)),
    userId: null,
  };
}

/** The payload's fields as strings, or `null` when it is not an object of fields at all. */
function stringParameters(payload: unknown): Record<string, string> | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const parameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) parameters[name] = typeof value === 'string' ? value : safeStringify(value);
  return parameters;
}

function decoded(parameters: Record<string, string>, field: (typeof EMBEDDED_JSON_FIELDS)[number]): unknown {
  const result = decodeEmbeddedJson(parameters, field);
  return result?.ok === true ? result.value : undefined;
}

function isoFromMs(value: string | undefined): string | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  const date = new Date(Number(value));
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** JSON text of anything a client sent; a value too deeply nested to print becomes a note, not a crash. */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return '"[not printable: nested too deeply]"';
  }
}
