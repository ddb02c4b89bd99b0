import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IgluValidator, ValidationIssue } from '../iglu/index.js';
import { packageRoot } from '../iglu/package-root.js';
import { SCHEMA_VIOLATIONS_SCHEMA } from '../schema-uris.js';
import { canonicalEvent } from './canonical-event.js';
import { analyticsJson, fullEvent, type CanonicalEvent } from './enriched-event.js';
import { FAILURE_SCHEMA, failureEntities } from './failure-entity.js';
import { targetsOf, toJsonPath } from './data-report.js';

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

/** Micro's GoodEvent. `event` holds the canonical fields that need no enrichment pipeline (the others `null`). */
export interface GoodEvent {
  rawEvent: RawEvent;
  eventType: string | null;
  schema: string | null;
  contexts: string[];
  event: CanonicalEvent;
  incomplete: false;
}

/** Micro's BadEvent: `errors[0]` is Micro's fixed sentence, the rest are schema_violations bad rows as JSON strings. */
export interface BadEvent {
  collectorPayload: Record<string, unknown>;
  rawEvent: RawEvent | null;
  errors: string[];
}

export const BAD_EVENT_HEADLINE = 'Error while validating the event.';

/**
 * An event as the collector keeps it: Micro's good or bad event, and its Analytics SDK JSON (`row`, only
 * the fields that are not null) for `/micro/events`, the UI and `--output-json`/`--output-tsv`.
 */
export type ProcessedEvent = { good: GoodEvent; row: EventRow } | { bad: BadEvent; row: EventRow };

/** An event's Analytics SDK JSON without its null fields; a failed event's holds its failure entities. */
export type EventRow = Record<string, unknown>;

/** Validates one tracker payload and turns it into Micro's good event or bad event. */
export function processPayload(payload: unknown, payloadSchema: string, request: RequestInfo, validator: IgluValidator): ProcessedEvent {
  const report = validator.validatePayload(payload, payloadSchema);
  const parameters = stringParameters(payload);
  const rawEvent = parameters === null ? null : toRawEvent(parameters, request);
  if (!report.valid || rawEvent === null) {
    const body = safeStringify({ schema: payloadSchema, data: [payload] });
    return badEvent({ ...request, body }, rawEvent, report.errors, validator);
  }
  return toGoodEvent(rawEvent, request);
}

/** A bad event for a whole request that holds no usable payload (not JSON, not payload_data, …). */
export function badRequest(request: RequestInfo, issues: ValidationIssue[], validator: IgluValidator): ProcessedEvent {
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

function toGoodEvent(rawEvent: RawEvent, request: RequestInfo): ProcessedEvent {
  const fields = canonicalEvent(rawEvent.parameters, request, COLLECTOR_NAME);
  const event = fullEvent(fields);
  const contexts = (event.contexts as { data?: Array<{ schema?: unknown }> } | null)?.data ?? [];
  const schema = event.event_vendor === null ? null : `iglu:${String(event.event_vendor)}/${String(event.event_name)}/${String(event.event_format)}/${String(event.event_version)}`;
  return {
    good: {
      rawEvent,
      eventType: event.event as string | null,
      schema,
      contexts: contexts.map((entity) => (typeof entity?.schema === 'string' ? entity.schema : '')).filter(Boolean),
      event,
      incomplete: false,
    },
    row: analyticsJson(fields),
  };
}

function badEvent(request: RequestInfo, rawEvent: RawEvent | null, issues: ValidationIssue[], validator: IgluValidator): ProcessedEvent {
  const badRow = {
    schema: SCHEMA_VIOLATIONS_SCHEMA,
    data: {
      processor: { artifact: 'snowplow-client-session', version: VERSION },
      failure: { timestamp: request.timestamp.toISOString(), messages: failureMessages(issues, validator, request.timestamp) },
      payload: { raw: rawPayload(rawEvent, request) },
    },
  };
  const bad: BadEvent = {
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
  return { bad, row: failedEventRow(request, rawEvent, issues, validator) };
}

/**
 * A failed event as Micro 4 answers it from `/micro/events`: what could be read of the event, with its
 * failure entities in `contexts_com_snowplowanalytics_snowplow_failure_1`.
 */
function failedEventRow(request: RequestInfo, rawEvent: RawEvent | null, issues: ValidationIssue[], validator: IgluValidator): EventRow {
  // No payload to read (a body that is not JSON, …): what the request itself says.
  const event = canonicalEvent(rawEvent?.parameters ?? {}, request, COLLECTOR_NAME);
  const failures = failureEntities(issues, rawEvent?.parameters ?? null, {
    at: request.timestamp,
    component: 'snowplow-client-session',
    version: VERSION,
    repositories: validator.resolver.names,
  });
  const contexts = (event.contexts as { data?: unknown[] } | null | undefined)?.data ?? [];
  return analyticsJson({ ...event, contexts: { data: [...contexts, ...failures.map((data) => ({ schema: FAILURE_SCHEMA, data }))] } });
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

/** JSON text of anything a client sent; a value too deeply nested to print becomes a note, not a crash. */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return '"[not printable: nested too deeply]"';
  }
}
