import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IgluValidator, Superseded, ValidationIssue } from '../iglu/index.js';
import { packageRoot } from '../iglu/package-root.js';
import { ATOMIC_SCHEMA, FAILURE_SCHEMA, SCHEMA_VIOLATIONS_SCHEMA } from '../schema-uris.js';
import { ATOMIC_LENGTH_KEYWORD, atomicFieldViolations, withoutViolations, type AtomicFieldViolation } from './atomic-fields.js';
import { canonicalEvent, type CollectorContext } from './canonical-event.js';
import { analyticsJson, fullEvent, type CanonicalEvent } from './enriched-event.js';
import type { TrackerApi } from './event-cache.js';
import { atomicFailureEntity, failureEntities, lookupHistoryOf } from './failure-entity.js';
import { targetsOf, toJsonPath } from './data-report.js';

const VERSION = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
const COLLECTOR_NAME = `snowplow-client-session-${VERSION}`;

/** What the collector saw of the HTTP request an event came in. */
export interface RequestInfo extends CollectorContext {
  ipAddress: string;
  refererUri: string | null;
  headers: string[];
  contentType: string | null;
  hostname: string;
  /** The tracking path, after custom paths are mapped (`/com.snowplowanalytics.snowplow/tp2`, `/i`). */
  path: string;
  querystring: string | null;
  body: string | null;
}

/** Enrich's rules beyond JSON Schema that the collector applies (`maxJsonDepth` is the validator's). */
export interface EnrichRules {
  atomicFieldsLimits: Readonly<Record<string, number>>;
  /** Enrich's `acceptInvalid`: fields over their limits do not fail the event. */
  acceptInvalid: boolean;
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

/**
 * Validates one tracker payload and turns it into Micro's good event or bad event: its schemas, then Enrich's
 * atomic-field limits over the event it makes.
 */
export function processPayload(payload: unknown, payloadSchema: string, request: RequestInfo, validator: IgluValidator, rules: EnrichRules): ProcessedEvent {
  const report = validator.validatePayload(payload, payloadSchema);
  const parameters = stringParameters(payload);
  const rawEvent = parameters === null ? null : toRawEvent(parameters, request);
  const fields = canonicalEvent(parameters ?? {}, request, COLLECTOR_NAME, report.superseded);
  const violations = rules.acceptInvalid ? [] : atomicFieldViolations(fields, rules.atomicFieldsLimits);
  if (!report.valid || rawEvent === null || violations.length > 0) {
    const body = safeStringify({ schema: payloadSchema, data: [payload] });
    return badEvent({ ...request, body }, rawEvent, { issues: report.errors, violations, superseded: report.superseded ?? [], fields }, validator);
  }
  return toGoodEvent(rawEvent, fields);
}

/** A bad event for a whole request that holds no usable payload (not JSON, not payload_data, …). */
export function badRequest(request: RequestInfo, issues: ValidationIssue[], validator: IgluValidator): ProcessedEvent {
  return badEvent(request, null, { issues, violations: [], superseded: [], fields: canonicalEvent({}, request, COLLECTOR_NAME) }, validator);
}

/** Why an event failed, and the event Enrich would have made of it. */
interface Failures {
  issues: ValidationIssue[];
  violations: AtomicFieldViolation[];
  superseded: readonly Superseded[];
  fields: Partial<CanonicalEvent>;
}

/** The vendor and version of a tracking path, as Snowplow's collector payload names them (`/i` is `tp1`). */
function apiOf(path: string): TrackerApi {
  const [, vendor = '', version = ''] = path.split('/');
  return path === '/i' ? { vendor: 'com.snowplowanalytics.snowplow', version: 'tp1' } : { vendor, version };
}

function toRawEvent(parameters: Record<string, string>, request: RequestInfo): RawEvent {
  return {
    api: apiOf(request.path),
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

function toGoodEvent(rawEvent: RawEvent, fields: Partial<CanonicalEvent>): ProcessedEvent {
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

function badEvent(request: RequestInfo, rawEvent: RawEvent | null, failures: Failures, validator: IgluValidator): ProcessedEvent {
  // As Enrich: the bad row holds the schema violations of the event's input, else its atomic fields' failures.
  const messages = failures.issues.length > 0 ? failureMessages(failures.issues, failures.superseded, validator, request.timestamp) : [atomicFailureMessage(failures.violations)];
  const badRow = {
    schema: SCHEMA_VIOLATIONS_SCHEMA,
    data: {
      processor: { artifact: 'snowplow-client-session', version: VERSION },
      failure: { timestamp: request.timestamp.toISOString(), messages },
      payload: { raw: rawPayload(rawEvent, request) },
    },
  };
  const bad: BadEvent = {
    collectorPayload: {
      schema: 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0',
      api: apiOf(request.path),
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
  return { bad, row: failedEventRow(request, rawEvent, failures, validator) };
}

/**
 * A failed event as Micro 4 answers it from `/micro/events`: what could be read of the event, with its
 * failure entities in `contexts_com_snowplowanalytics_snowplow_failure_1`.
 */
function failedEventRow(request: RequestInfo, rawEvent: RawEvent | null, { issues, violations, fields }: Failures, validator: IgluValidator): EventRow {
  // No payload to read (a body that is not JSON, …): what the request itself says. Fields over their limits are emptied, as Enrich does.
  const event = withoutViolations(fields, violations);
  const context = { at: request.timestamp, component: 'snowplow-client-session', version: VERSION, resolver: validator.resolver };
  const failures = failureEntities(issues, rawEvent?.parameters ?? null, context);
  if (violations.length > 0) failures.push(atomicFailureEntity(violations, context));
  const derived = (event.derived_contexts as { data?: unknown[] } | null | undefined)?.data ?? [];
  return analyticsJson({ ...event, derived_contexts: { data: [...failures.map((data) => ({ schema: FAILURE_SCHEMA, data })), ...derived] } });
}

/** Enrich's one schema violation for the atomic fields over their limits. */
function atomicFailureMessage(violations: AtomicFieldViolation[]): unknown {
  const dataReports = violations.map(({ field, message }) => ({ message, path: field, keyword: ATOMIC_LENGTH_KEYWORD, targets: [] }));
  return { schemaKey: ATOMIC_SCHEMA, error: { error: 'ValidationError', dataReports } };
}

/**
 * The bad row's failure messages, in the shapes schema_violations 2-0-1 allows: one per failing schema (with
 * `supersededBy` when it was validated with a later version, as iglu-scala-client says).
 */
function failureMessages(issues: ValidationIssue[], superseded: readonly Superseded[], validator: IgluValidator, at: Date): unknown[] {
  const messages: unknown[] = [];
  const reports = new Map<string, Array<{ message: string; path: string; keyword: string; targets: string[] | null }>>();
  for (const issue of issues) {
    const field = issue.path.slice(issue.path.lastIndexOf('/') + 1);
    if (issue.keyword === 'json' || issue.keyword === 'base64' || (issue.keyword === 'depth' && issue.schema === null)) {
      messages.push({ field: field.slice(0, 64), value: null, error: issue.message });
    } else if (issue.keyword === 'iglu' && issue.schema === null) {
      messages.push({ json: null, error: issue.message.includes('Iglu URI') ? 'INVALID_IGLUURI' : 'INVALID_DATA_PAYLOAD' });
    } else if (issue.keyword === 'iglu') {
      messages.push({ schemaKey: issue.schema, error: { error: 'ResolutionError', lookupHistory: lookupHistoryOf(issue.schema!, validator.resolver, at) } });
    } else if (issue.keyword === 'schema') {
      messages.push({ schemaKey: issue.schema, error: { error: 'ValidationError', schemaIssues: [{ path: '$', message: issue.message }] } });
    } else {
      const path = toJsonPath(issue.dataPath ?? '');
      const list = reports.get(issue.schema!) ?? [];
      list.push({ message: `${path}: ${issue.message}`, path, keyword: issue.keyword, targets: targetsOf(issue) });
      reports.set(issue.schema!, list);
    }
  }
  for (const [schemaKey, dataReports] of reports) {
    const supersededBy = superseded.find((s) => s.originalSchema === schemaKey)?.validatedWith;
    messages.push({ schemaKey, error: { error: 'ValidationError', dataReports, ...(supersededBy === undefined ? {} : { supersededBy }) } });
  }
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
