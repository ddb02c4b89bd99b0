import type { IgluResolver, ValidationIssue } from '../iglu/index.js';
import { decodeEmbeddedJson, type EmbeddedJsonField } from '../iglu/json.js';
import { ATOMIC_SCHEMA, FAILURE_SCHEMA } from '../schema-uris.js';
import { ATOMIC_LENGTH_KEYWORD, type AtomicFieldViolation } from './atomic-fields.js';
import { targetsOf, toJsonPath } from './data-report.js';
import { shreddedColumn } from './enriched-event.js';

/** The column of the failure entity Micro 4 attaches to a failed event (`contexts_com_snowplowanalytics_snowplow_failure_1`). */
export const FAILURE_COLUMN = shreddedColumn('contexts_', FAILURE_SCHEMA)!;

export interface FailureError {
  /** Where the failing JSON sits in the event: `unstruct`, `contexts`, `payload` (the tracker's own fields) or `atomic_field` (Enrich's limits). */
  source: 'unstruct' | 'contexts' | 'payload' | 'atomic_field';
  message: string;
  /** The failing field as a JSON path into `data` (Snowplow's data-report style, e.g. `$.quantity`). */
  path?: string;
  keyword?: string;
  targets?: string[] | null;
  /** Where the failing field is in the tracker payload, as a JSON pointer (`/ue_px/data/data/quantity`). */
  field?: string;
  lookupHistory?: unknown[];
}

export interface FailureEntity {
  failureType: 'ValidationError' | 'ResolutionError' | 'NotJSON';
  errors: FailureError[];
  schema: string | null;
  data: Record<string, unknown> | null;
  timestamp: string;
  componentName: string;
  componentVersion: string;
}

/**
 * One failure entity per schema that failed (and one for the payload's own fields), each naming the
 * offending field of its data, as Micro 4 shows failed events in `/micro/events` and its UI.
 */
/** When and by what a failure was found, and the resolver that looked the schemas up. */
export interface FailureContext {
  at: Date;
  component: string;
  version: string;
  resolver: IgluResolver;
}

/** Messages quote what the client sent (a schema URI of any length): a failure keeps at most this much of one. */
const MAX_MESSAGE_CHARS = 1024;

export function failureEntities(issues: ValidationIssue[], parameters: Record<string, string> | null, context: FailureContext): FailureEntity[] {
  const groups = new Map<string, { issues: ValidationIssue[]; schema: string | null; source: FailureError['source'] }>();
  for (const issue of issues) {
    const source = sourceOf(issue.path);
    const schema = issue.schema !== null && !issue.schema.includes('/payload_data/') ? issue.schema : null;
    const key = `${source} ${entityPointer(issue.path) ?? ''} ${schema ?? ''}`;
    const group = groups.get(key) ?? { issues: [], schema, source };
    group.issues.push(issue);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ issues: group, schema, source }) => {
    const resolution = group.some((issue) => issue.keyword === 'iglu' && issue.schema !== null);
    const notJson = group.every((issue) => issue.schema === null && ['json', 'base64', 'depth'].includes(issue.keyword));
    const pointer = entityPointer(group[0]!.path);
    return {
      failureType: resolution ? 'ResolutionError' : notJson ? 'NotJSON' : 'ValidationError',
      errors: group.map((issue) => failureError(issue, source, context)),
      schema,
      data: pointer === null || parameters === null ? null : dataAt(parameters, pointer),
      timestamp: context.at.toISOString(),
      componentName: context.component,
      componentVersion: context.version,
    };
  });
}

/** Enrich's one failure entity for the atomic fields over their limits: `data` holds each field's value. */
export function atomicFailureEntity(violations: readonly AtomicFieldViolation[], context: FailureContext): FailureEntity {
  return {
    failureType: 'ValidationError',
    errors: violations.map(({ field, message }) => ({ source: 'atomic_field', message, path: field, keyword: ATOMIC_LENGTH_KEYWORD, targets: [] })),
    schema: ATOMIC_SCHEMA,
    data: Object.fromEntries(violations.map(({ field, value }) => [field, value])),
    timestamp: context.at.toISOString(),
    componentName: context.component,
    componentVersion: context.version,
  };
}

/** Each repository's attempt to find `uri`, as the resolver recorded it (or, when it kept none, each repository as not having it). */
export function lookupHistoryOf(uri: string, resolver: IgluResolver, at: Date): unknown[] {
  const resolution = resolver.resolve(uri);
  if (!resolution.ok && resolution.lookupHistory.length > 0) return resolution.lookupHistory;
  return resolver.names.map((repository) => ({ repository, errors: [{ error: 'NotFound' }], attempts: 1, lastAttempt: at.toISOString() }));
}

function failureError(issue: ValidationIssue, source: FailureError['source'], context: FailureContext): FailureError {
  if (issue.keyword === 'iglu' && issue.schema !== null) {
    return { source, message: `Resolution error: schema ${issue.schema} not found`, lookupHistory: lookupHistoryOf(issue.schema, context.resolver, context.at) };
  }
  const path = issue.dataPath === undefined ? undefined : toJsonPath(issue.dataPath);
  const message = issue.message.length > MAX_MESSAGE_CHARS ? `${issue.message.slice(0, MAX_MESSAGE_CHARS)}… (${issue.message.length} characters)` : issue.message;
  return {
    source,
    message: path === undefined ? message : `${path}: ${message}`,
    ...(path === undefined ? {} : { path }),
    keyword: issue.keyword,
    targets: targetsOf(issue),
    field: issue.path,
  };
}

function sourceOf(path: string): FailureError['source'] {
  if (/^\/ue_p[rx](\/|$)/.test(path)) return 'unstruct';
  if (/^\/(co|cx)(\/|$)/.test(path)) return 'contexts';
  return 'payload';
}

/** The pointer of the entity or event data an issue is in: `/ue_px/data/data`, `/cx/data/3/data`; null for payload fields. */
function entityPointer(path: string): string | null {
  return /^\/ue_p[rx]\/data\/data(?=\/|$)/.exec(path)?.[0] ?? /^\/(?:co|cx)\/data\/\d+\/data(?=\/|$)/.exec(path)?.[0] ?? null;
}

/** The JSON object at `/field/…` in the payload, stepping into the field's decoded JSON. */
function dataAt(parameters: Record<string, string>, pointer: string): Record<string, unknown> | null {
  const [, field, ...rest] = pointer.split('/');
  const decoded = decodeEmbeddedJson(parameters, field as EmbeddedJsonField);
  if (decoded?.ok !== true) return null;
  let value: unknown = decoded.value;
  for (const segment of rest) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
