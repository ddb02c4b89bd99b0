/**
 * Queries over the collector's events, for `waitFor`, `expectNoBadEvents`, `POST /micro/wait` and the
 * test matchers: what a query may say, whether an event matches it, and how close an event that does not
 * comes (the parts that differ, shown as an expected/actual pair a runner can diff).
 */
import { closestName } from '../util/closest-name.js';
import { ENRICHED_FIELDS, type EnrichedField } from './enriched-event.js';
import type { EventRow } from './events.js';
import { QueryError } from './event-query.js';

/** The atomic fields a query can name: the enriched event's (Micro's column names), less the self-describing ones. */
export type AtomicField = Exclude<EnrichedField, 'contexts' | 'derived_contexts' | 'unstruct_event'>;

/** An entity the event must carry: its schema URI (with or without version), or a schema and part of its data. */
export type EntityQuery = string | { schema: string; data?: Record<string, unknown> };

/**
 * What to look for, matched partially: every part given must match; parts not given are not looked at.
 * Values may be JSON, a `RegExp` (matched against a string) or a test runner's asymmetric matcher
 * (`expect.any(String)`), in process.
 */
export interface EventQuery extends Partial<Record<AtomicField, unknown>> {
  /** The self-describing event's schema: `iglu:vendor/name/jsonschema/1-0-0`, or without version for any version. */
  schema?: string;
  /** Entities that must all be attached. */
  contexts?: EntityQuery[];
  /** Part of the self-describing event's data. */
  data?: Record<string, unknown>;
  /** Request headers the event came with (names in any case), e.g. a tag a browser test sets. */
  headers?: Record<string, unknown>;
}

/** An event as the matcher reads it: its Analytics SDK JSON row, and its request headers (read only when a query asks). */
export interface MatchableEvent {
  row: EventRow;
  headers(): readonly string[];
}

/** How close an event comes to a query: `score` out of the query's parts (all of them when it matches). */
export interface Closeness {
  score: number;
  /** The atomic fields and headers that match in full: a test's tag is one of them, so they rank first. */
  tags: number;
  /** The query's parts in the event's terms, and the event's values at the same places: what a diff shows. */
  expected: Record<string, unknown>;
  actual: Record<string, unknown>;
  /** Where they differ: `schema`, `data.total`, `contexts[1]`, `app_id`, `headers.x-test-id`. */
  mismatches: string[];
}

export interface CompiledQuery {
  /** The query as one line of JSON for messages. */
  readonly text: string;
  matches(event: MatchableEvent): boolean;
  /** Whether the event matches the parts a failed event reliably has: atomic fields and headers. */
  matchesTags(event: MatchableEvent): boolean;
  closeness(event: MatchableEvent): Closeness;
}

const SELF_DESCRIBING = new Set<string>(['contexts', 'derived_contexts', 'unstruct_event']);
const ATOMIC_FIELDS = new Set<string>(ENRICHED_FIELDS.filter((field) => !SELF_DESCRIBING.has(field)));
const QUERY_PARTS = ['schema', 'contexts', 'data', 'headers'];
const VERSIONED_URI = /^iglu:[^/\s]+\/[^/\s]+\/[^/\s]+\/[1-9]\d*-(?:0|[1-9]\d*)-(?:0|[1-9]\d*)$/;
const UNVERSIONED_URI = /^iglu:[^/\s]+\/[^/\s]+\/[^/\s]+$/;

/** One part of a query, checked against an event. */
interface Criterion {
  key: string;
  /** Atomic fields and headers: what a failed event carries when its payload could be read. */
  tag: boolean;
  check(event: MatchableEvent): Part;
}

/** A part's verdict: the share of it that matched (1 = all), and the expected/actual pair at its place. */
interface Part {
  score: number;
  expected: unknown;
  actual: unknown;
  mismatches: string[];
}

/** Checks a query (throws `QueryError` naming the part that is wrong and what is allowed) and compiles it. */
export function compileQuery(query: unknown): CompiledQuery {
  if (!isPlainObject(query)) throw new QueryError(`a query must be an object such as {"schema": "iglu:com.acme/checkout/jsonschema", "app_id": "shop"}, got ${describe(query)}`);
  const criteria: Criterion[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    criteria.push(criterionFor(key, value));
  }
  const tags = criteria.filter((criterion) => criterion.tag);
  const allMatch = (event: MatchableEvent, parts: Criterion[]) => parts.every((criterion) => criterion.check(event).score === 1);
  return {
    text: describe(query),
    matches: (event) => allMatch(event, criteria),
    matchesTags: (event) => allMatch(event, tags),
    closeness(event) {
      const result: Closeness = { score: 0, tags: 0, expected: {}, actual: {}, mismatches: [] };
      for (const criterion of criteria) {
        const part = criterion.check(event);
        result.score += part.score;
        if (criterion.tag && part.score === 1) result.tags++;
        result.expected[criterion.key] = part.expected;
        if (part.actual !== undefined) result.actual[criterion.key] = part.actual;
        result.mismatches.push(...part.mismatches);
      }
      return result;
    },
  };
}

function criterionFor(key: string, value: unknown): Criterion {
  switch (key) {
    case 'schema':
      checkUri(value, 'schema');
      return { key, tag: false, check: (event) => schemaPart(value as string, eventSchemaOf(event.row)) };
    case 'contexts':
      if (!Array.isArray(value)) throw new QueryError(`contexts must be an array of entity schema URIs or {"schema", "data"} objects, got ${describe(value)}`);
      value.forEach(checkEntityQuery);
      return { key, tag: false, check: (event) => contextsPart(value as EntityQuery[], entitiesOf(event.row)) };
    case 'data':
      if (!isPlainObject(value)) throw new QueryError(`data must be an object: part of the self-describing event's data, got ${describe(value)}`);
      return { key, tag: false, check: (event) => partial(value, eventDataOf(event.row), 'data') };
    case 'headers':
      if (!isPlainObject(value) || !Object.values(value).every(isScalarExpectation)) {
        throw new QueryError(`headers must be an object of header names and values such as {"X-Test-Id": "checkout-1"}, got ${describe(value)}`);
      }
      return { key, tag: true, check: (event) => headersPart(value, event.headers()) };
    default:
      if (!ATOMIC_FIELDS.has(key)) {
        const near = closestName(key, [...QUERY_PARTS, ...ATOMIC_FIELDS]);
        throw new QueryError(`unknown query field ${JSON.stringify(key)}${near === undefined ? '' : ` (did you mean ${near}?)`}; a query has schema, contexts, data, headers, or atomic fields by their Micro names such as app_id, event_name, se_action, user_id`);
      }
      if (!isScalarExpectation(value)) throw new QueryError(`${key} must be a string, number, boolean or null (an atomic field's value), got ${describe(value)}`);
      return { key, tag: true, check: (event) => partial(value, event.row[key] ?? null, key) };
  }
}

function checkUri(value: unknown, what: string): void {
  if (typeof value !== 'string' || !(VERSIONED_URI.test(value) || UNVERSIONED_URI.test(value))) {
    throw new QueryError(`${what} must be an Iglu URI such as iglu:com.acme/checkout/jsonschema/1-0-0, or without the version (iglu:com.acme/checkout/jsonschema) for any version, got ${describe(value)}`);
  }
}

function checkEntityQuery(entity: unknown, i: number): void {
  if (typeof entity === 'string') return checkUri(entity, `contexts[${i}]`);
  if (!isPlainObject(entity)) throw new QueryError(`contexts[${i}] must be an entity schema URI or {"schema", "data"}, got ${describe(entity)}`);
  checkUri(entity.schema, `contexts[${i}].schema`);
  if (entity.data !== undefined && !isPlainObject(entity.data)) throw new QueryError(`contexts[${i}].data must be an object: part of the entity's data, got ${describe(entity.data)}`);
}

/** Whether `uri` is the schema `pattern` names: the same URI, or any version of an unversioned one. */
export function uriMatches(pattern: string, uri: string | null): boolean {
  if (uri === null) return false;
  return pattern === uri || (UNVERSIONED_URI.test(pattern) && uri.startsWith(`${pattern}/`));
}

function schemaPart(pattern: string, uri: string | null): Part {
  const ok = uriMatches(pattern, uri);
  const sameName = !ok && uri !== null && sameFamily(pattern, uri); // another version: a near miss
  return { score: ok ? 1 : sameName ? 0.5 : 0, expected: pattern, actual: ok ? pattern : uri, mismatches: ok ? [] : ['schema'] };
}

/** Whether two URIs name the same vendor, name and format. */
function sameFamily(a: string, b: string): boolean {
  const family = (uri: string) => uri.split('/').slice(0, 3).join('/');
  return family(a) === family(b);
}

/** Each entity asked for against the best candidate of its schema; the part's score is their mean. */
function contextsPart(wanted: EntityQuery[], entities: Array<{ uri: string; data: Record<string, unknown> }>): Part {
  const expected: unknown[] = [];
  const actual: unknown[] = [];
  const mismatches: string[] = [];
  let score = 0;
  wanted.forEach((entity, i) => {
    const pattern = typeof entity === 'string' ? entity : entity.schema;
    const candidates = entities.filter((candidate) => uriMatches(pattern, candidate.uri));
    if (typeof entity === 'string' || entity.data === undefined) {
      const ok = candidates.length > 0;
      score += ok ? 1 : 0;
      expected.push(entity);
      actual.push(ok ? entity : sameName(pattern, entities));
      if (!ok) mismatches.push(`contexts[${i}]`);
      return;
    }
    const parts = candidates.map((candidate) => partial(entity.data, candidate.data, `contexts[${i}].data`));
    const best = parts.reduce<Part | null>((top, part) => (top === null || part.score > top.score ? part : top), null);
    expected.push({ schema: entity.schema, data: entity.data });
    actual.push(best === null ? sameName(pattern, entities) : { schema: entity.schema, data: best.actual });
    score += best === null ? 0 : (1 + best.score) / 2;
    if (best === null) mismatches.push(`contexts[${i}]`);
    else mismatches.push(...best.mismatches);
  });
  return { score: wanted.length === 0 ? 1 : score / wanted.length, expected, actual, mismatches };
}

/** For a missing entity: the URI of one of the same vendor and name (another version), or null. */
function sameName(pattern: string, entities: Array<{ uri: string }>): string | null {
  return entities.find((entity) => sameFamily(pattern, entity.uri))?.uri ?? null;
}

function headersPart(wanted: Record<string, unknown>, headers: readonly string[]): Part {
  const values = new Map<string, string>();
  for (const line of headers) {
    const colon = line.indexOf(':');
    if (colon > 0) values.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const actual: Record<string, unknown> = {};
  for (const name of Object.keys(wanted)) {
    const value = values.get(name.toLowerCase());
    if (value !== undefined) actual[name] = value;
  }
  return partial(wanted, actual, 'headers');
}

/**
 * A partial match, as test runners' `toMatchObject`: every key of an expected object must match (others
 * are ignored), arrays element by element with the same length, other values strictly equal. The score is
 * the share of expected leaves that matched; `actual` is the actual value cut to the expected keys, with
 * each matched leaf shown as expected (so a diff shows only what differs).
 */
export function partial(expected: unknown, actual: unknown, path: string): Part {
  if (isAsymmetricMatcher(expected) || expected instanceof RegExp) {
    const ok = expected instanceof RegExp ? typeof actual === 'string' && expected.test(actual) : expected.asymmetricMatch(actual);
    return leaf(ok, expected, actual, path);
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return { score: 0, expected, actual: actual ?? null, mismatches: [path] };
    const projected: Record<string, unknown> = {};
    const mismatches: string[] = [];
    let score = 0;
    const keys = Object.keys(expected);
    for (const key of keys) {
      const part = partial(expected[key], actual[key], `${path}.${key}`);
      score += part.score;
      if (key in actual) projected[key] = part.actual;
      mismatches.push(...part.mismatches);
    }
    return { score: keys.length === 0 ? 1 : score / keys.length, expected, actual: projected, mismatches };
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return { score: 0, expected, actual: actual ?? null, mismatches: [path] };
    const parts = expected.map((item, i) => partial(item, actual[i], `${path}[${i}]`));
    const score = parts.length === 0 ? 1 : parts.reduce((sum, part) => sum + part.score, 0) / parts.length;
    return { score, expected, actual: parts.map((part) => part.actual), mismatches: parts.flatMap((part) => part.mismatches) };
  }
  return leaf(expected === actual || (Number.isNaN(expected) && Number.isNaN(actual)), expected, actual, path);
}

/** A value: 1 when it matches; for ranking near misses, ½ when it differs but is there with the same type. */
function leaf(ok: boolean, expected: unknown, actual: unknown, path: string): Part {
  const sameType = actual !== null && actual !== undefined && (expected instanceof RegExp ? typeof actual === 'string' : typeof expected === typeof actual);
  return { score: ok ? 1 : sameType ? 0.5 : 0, expected, actual: ok ? expected : actual, mismatches: ok ? [] : [path] };
}

/** The self-describing event's schema URI from the event's `event_vendor/name/format/version`, or null. */
export function eventSchemaOf(row: EventRow): string | null {
  const { event_vendor: vendor, event_name: name, event_format: format, event_version: version } = row;
  return vendor === undefined || name === undefined || format === undefined || version === undefined ? null : `iglu:${String(vendor)}/${String(name)}/${String(format)}/${String(version)}`;
}

/** The event's entities from its `contexts_…` columns, each with its URI and data. */
export function entitiesOf(row: EventRow): Array<{ uri: string; data: Record<string, unknown> }> {
  const entities: Array<{ uri: string; data: Record<string, unknown> }> = [];
  for (const [column, value] of Object.entries(row)) {
    if (!column.startsWith('contexts_') || !Array.isArray(value)) continue;
    for (const entity of value as Array<Record<string, unknown>>) {
      const { _schema_version: uri, ...data } = entity;
      if (typeof uri === 'string') entities.push({ uri, data });
    }
  }
  return entities;
}

/** The self-describing event's data (its `unstruct_event_…` column), or null. */
export function eventDataOf(row: EventRow): unknown {
  for (const column of Object.keys(row)) if (column.startsWith('unstruct_event_')) return row[column];
  return null;
}

interface AsymmetricMatcher {
  asymmetricMatch(other: unknown): boolean;
}

function isAsymmetricMatcher(value: unknown): value is AsymmetricMatcher {
  return value !== null && typeof value === 'object' && typeof (value as Partial<AsymmetricMatcher>).asymmetricMatch === 'function';
}

function isScalarExpectation(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value) || value instanceof RegExp || isAsymmetricMatcher(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof RegExp || isAsymmetricMatcher(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A value as one line of JSON for messages; regular expressions and asymmetric matchers as they print. */
export function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_, v: unknown) => (v instanceof RegExp ? String(v) : isAsymmetricMatcher(v) ? printMatcher(v) : v));
    if (text === undefined) return String(value);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(value);
  }
}

/** Jest's and Vitest's matchers print as `Any<String>` through `toAsymmetricMatcher()`. */
function printMatcher(matcher: AsymmetricMatcher): string {
  const named = matcher as AsymmetricMatcher & { toAsymmetricMatcher?: () => string };
  return typeof named.toAsymmetricMatcher === 'function' ? named.toAsymmetricMatcher() : String(matcher);
}
