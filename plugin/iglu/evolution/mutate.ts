import { compareDecimals } from './decimal.js';
import { canonicalJson, typeOfSet, type DdlSchema, type EnumValue, type JsonType, type NumberKeyword } from './ddl-schema.js';

/**
 * schema-ddl's `Mutate.forStorage` (`jsonschema/mutate/`): the schema the Parquet model is built from, with
 * tuple items collapsed to one item schema, `additionalProperties: false` wherever properties are defined,
 * and `oneOf`/`anyOf` folded into the schema (each alternative narrowed with the rest, the results widened).
 */
export function forStorage(schema: DdlSchema): DdlSchema {
  return noAlternatives(noAdditionalProperties(noTupleItems(schema)));
}

type Additional = boolean | DdlSchema;
const mapValues = (m: Map<string, DdlSchema> | undefined, f: (s: DdlSchema) => DdlSchema) =>
  m === undefined ? undefined : new Map([...m].map(([k, v]) => [k, f(v)]));
const mapAdditional = (a: Additional | undefined, f: (s: DdlSchema) => DdlSchema) => (a === undefined || typeof a === 'boolean' ? a : f(a));
const mapItems = (items: DdlSchema['items'], f: (s: DdlSchema) => DdlSchema): DdlSchema['items'] =>
  items === undefined ? undefined : 'list' in items ? { list: f(items.list) } : { tuple: items.tuple.map(f) };

function clean(s: DdlSchema): DdlSchema {
  for (const key of Object.keys(s) as Array<keyof DdlSchema>) if (s[key] === undefined) delete s[key];
  return s;
}

function noTupleItems(s: DdlSchema): DdlSchema {
  let items: DdlSchema['items'];
  if (s.items !== undefined && 'list' in s.items) items = { list: noTupleItems(s.items.list) };
  else if (s.items !== undefined) {
    const tuple = s.items.tuple.map(noTupleItems);
    const extra = s.additionalItems;
    if (extra !== undefined && typeof extra !== 'boolean') items = { list: tuple.reduce(widened, extra) };
    else items = tuple.length === 0 ? undefined : { list: tuple.reduce(widened) };
  }
  return clean({
    ...s,
    items,
    additionalProperties: mapAdditional(s.additionalProperties, noTupleItems),
    additionalItems: undefined,
    patternProperties: mapValues(s.patternProperties, noTupleItems),
    properties: mapValues(s.properties, noTupleItems),
    oneOf: s.oneOf?.map(noTupleItems),
    anyOf: s.anyOf?.map(noTupleItems),
  });
}

function hasDefinedProperties(s: DdlSchema): boolean {
  if (s.properties !== undefined && s.properties.size > 0) return true;
  return [...(s.oneOf ?? []), ...(s.anyOf ?? [])].some(hasDefinedProperties);
}

function noAdditionalProperties(s: DdlSchema): DdlSchema {
  const closes = s.type?.types.has('object') === true && hasDefinedProperties(s);
  return clean({
    ...s,
    items: mapItems(s.items, noAdditionalProperties),
    additionalItems: mapAdditional(s.additionalItems, noAdditionalProperties),
    properties: mapValues(s.properties, noAdditionalProperties),
    additionalProperties: closes ? false : s.additionalProperties,
    patternProperties: undefined,
    oneOf: s.oneOf?.map(noAdditionalProperties),
    anyOf: s.anyOf?.map(noAdditionalProperties),
  });
}

function noAlternatives(s: DdlSchema): DdlSchema {
  const withoutAlternatives = clean({
    ...s,
    items: mapItems(s.items, noAlternatives),
    properties: mapValues(s.properties, noAlternatives),
    patternProperties: mapValues(s.patternProperties, noAlternatives),
    additionalProperties: mapAdditional(s.additionalProperties, noAlternatives),
    additionalItems: mapAdditional(s.additionalItems, noAlternatives),
    oneOf: undefined,
    anyOf: undefined,
  });
  const alternatives = [...(s.oneOf ?? []), ...(s.anyOf ?? [])].map((alternative) => narrowed(withoutAlternatives, noAlternatives(alternative)));
  return alternatives.length === 0 ? withoutAlternatives : alternatives.reduce(widened);
}

// Narrowed (`mutate/Narrowed.scala`): data valid against both schemas is valid against the result.
// Each keyword present on one side only is kept; on both sides, combined. (Called only from
// noAlternatives, where neither side holds oneOf/anyOf any more.)

const both = <T>(a: T | undefined, b: T | undefined, f: (x: T, y: T) => T): T | undefined => (a === undefined ? b : b === undefined ? a : f(a, b));
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

export function narrowed(s1: DdlSchema, s2: DdlSchema): DdlSchema {
  return clean({
    multipleOf: both(s1.multipleOf, s2.multipleOf, narrowMultipleOf),
    minimum: both(s1.minimum, s2.minimum, (a, b) => (compareDecimals(a.value, b.value) > 0 ? a : b)),
    maximum: both(s1.maximum, s2.maximum, (a, b) => (compareDecimals(a.value, b.value) < 0 ? a : b)),
    maxLength: both(s1.maxLength, s2.maxLength, minBig),
    minLength: both(s1.minLength, s2.minLength, maxBig),
    pattern: s1.pattern ?? s2.pattern,
    format: s1.format ?? s2.format,
    $schema: s1.$schema ?? s2.$schema,
    items: both(s1.items, s2.items, (a, b) => ('list' in a && 'list' in b ? { list: narrowed(a.list, b.list) } : { list: {} })),
    additionalItems: both(s1.additionalItems, s2.additionalItems, narrowAdditional),
    minItems: both(s1.minItems, s2.minItems, maxBig),
    maxItems: both(s1.maxItems, s2.maxItems, minBig),
    properties: both(s1.properties, s2.properties, narrowMaps),
    additionalProperties: both(s1.additionalProperties, s2.additionalProperties, narrowAdditional),
    required: both(s1.required, s2.required, (a, b) => [...new Set([...a, ...b])]),
    patternProperties: both(s1.patternProperties, s2.patternProperties, narrowMaps),
    type: both(s1.type, s2.type, (a, b) => typeOfSet([...a.types].filter((t) => b.types.has(t)))),
    enum: both(s1.enum, s2.enum, intersectEnums),
    description: s1.description ?? s2.description,
  });
}

function narrowMultipleOf(a: NumberKeyword, b: NumberKeyword): NumberKeyword {
  if (!a.integer) return { integer: false, value: compareDecimals(a.value, b.value) <= 0 ? a.value : b.value };
  if (!b.integer) return { integer: false, value: compareDecimals(b.value, a.value) <= 0 ? b.value : a.value };
  return compareDecimals(a.value, b.value) <= 0 ? a : b;
}

function narrowAdditional(a: Additional, b: Additional): Additional {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  return narrowed(a, b);
}

function narrowMaps(a: Map<string, DdlSchema>, b: Map<string, DdlSchema>): Map<string, DdlSchema> {
  const result = new Map(a);
  for (const [key, schema] of b) {
    const left = result.get(key);
    result.set(key, left === undefined ? schema : narrowed(left, schema));
  }
  return result;
}

function intersectEnums(a: EnumValue[], b: EnumValue[]): EnumValue[] {
  // Scala's List.intersect: a multiset intersection in the left list's order.
  const counts = new Map<string, number>();
  for (const v of b) counts.set(canonicalJson(v.json), (counts.get(canonicalJson(v.json)) ?? 0) + 1);
  return a.filter((v) => {
    const key = canonicalJson(v.json);
    const left = counts.get(key) ?? 0;
    if (left === 0) return false;
    counts.set(key, left - 1);
    return true;
  });
}

// Widened (`mutate/Widened.scala`): data valid against either schema is valid against the result. A
// keyword that applies to a type both sides permit is kept only when both sides have it.

const NUMERIC: JsonType[] = ['number', 'integer'];
const permits = (s: DdlSchema, types: JsonType[]) => s.type === undefined || types.some((t) => s.type!.types.has(t));

function typed<T>(s1: DdlSchema, s2: DdlSchema, types: JsonType[], get: (s: DdlSchema) => T | undefined, f: (a: T, b: T) => T | undefined): T | undefined {
  const [p1, p2] = [permits(s1, types), permits(s2, types)];
  if (!p1 && !p2) return undefined;
  if (p1 && !p2) return get(s1);
  if (!p1 && p2) return get(s2);
  const [a, b] = [get(s1), get(s2)];
  return a === undefined || b === undefined ? undefined : f(a, b);
}

const sameOrNone = <T>(a: T, b: T) => (a === b ? a : undefined);

export function widened(s1: DdlSchema, s2: DdlSchema): DdlSchema {
  const alternatives = [...(s1.oneOf ?? []), ...(s1.anyOf ?? [])];
  const others = [...(s2.oneOf ?? []), ...(s2.anyOf ?? [])];
  return clean({
    multipleOf: typed(s1, s2, NUMERIC, (s) => s.multipleOf, (a, b) => (compareDecimals(a.value, b.value) === 0 ? a : undefined)),
    minimum: typed(s1, s2, NUMERIC, (s) => s.minimum, (a, b) => (compareDecimals(a.value, b.value) < 0 ? a : b)),
    maximum: typed(s1, s2, NUMERIC, (s) => s.maximum, (a, b) => (compareDecimals(a.value, b.value) > 0 ? a : b)),
    maxLength: typed(s1, s2, ['string'], (s) => s.maxLength, maxBig),
    minLength: typed(s1, s2, ['string'], (s) => s.minLength, minBig),
    pattern: typed(s1, s2, ['string'], (s) => s.pattern, sameOrNone),
    format: typed(s1, s2, ['string'], (s) => s.format, sameOrNone),
    $schema: typed(s1, s2, ['string'], (s) => s.$schema, sameOrNone),
    items: typed(s1, s2, ['array'], (s) => s.items, (a, b) => ('list' in a && 'list' in b ? { list: widened(a.list, b.list) } : { list: {} })),
    additionalItems: typed(s1, s2, ['array'], (s) => s.additionalItems, widenAdditionalItems),
    minItems: typed(s1, s2, ['array'], (s) => s.minItems, minBig),
    maxItems: typed(s1, s2, ['array'], (s) => s.maxItems, maxBig),
    properties: widenObjectMaps(s1, s2, (s) => s.properties),
    additionalProperties: typed(s1, s2, ['object'], (s) => s.additionalProperties, widenAdditionalProperties),
    required: typed(s1, s2, ['object'], (s) => s.required, (a, b) => [...new Set(a)].filter((k) => b.includes(k))),
    patternProperties: widenObjectMaps(s1, s2, (s) => s.patternProperties),
    type: s1.type !== undefined && s2.type !== undefined ? typeOfSet([...s1.type.types, ...s2.type.types]) : undefined,
    enum: s1.enum !== undefined && s2.enum !== undefined ? distinctEnums([...s1.enum, ...s2.enum]) : undefined,
    anyOf: alternatives.length > 0 && others.length > 0 ? distinctSchemas([...alternatives, ...others]) : undefined,
    description: s1.description !== undefined && s1.description === s2.description ? s1.description : undefined,
  });
}

function widenAdditionalItems(a: Additional, b: Additional): Additional {
  if (typeof a !== 'boolean' && typeof b !== 'boolean') return widened(a, b);
  if (a === false) return b;
  if (b === false) return a;
  return true;
}

function widenAdditionalProperties(a: Additional, b: Additional): Additional {
  if (a === true || b === true) return true;
  if (a === false) return b;
  if (b === false) return a;
  return widened(a, b);
}

function widenObjectMaps(s1: DdlSchema, s2: DdlSchema, get: (s: DdlSchema) => Map<string, DdlSchema> | undefined): Map<string, DdlSchema> | undefined {
  const [p1, p2] = [permits(s1, ['object']), permits(s2, ['object'])];
  if (!p1 && !p2) return undefined;
  if (p1 && !p2) return get(s1);
  if (!p1 && p2) return get(s2);
  const [m1, m2] = [get(s1) ?? new Map<string, DdlSchema>(), get(s2) ?? new Map<string, DdlSchema>()];
  const result = new Map<string, DdlSchema>();
  for (const key of new Set([...m1.keys(), ...m2.keys()])) {
    const [a, b] = [m1.get(key), m2.get(key)];
    if (a !== undefined && b !== undefined) result.set(key, widened(a, b));
    else result.set(key, onlyOneSide((a ?? b)!, a === undefined ? s1.additionalProperties : s2.additionalProperties));
  }
  return result.size === 0 ? undefined : result;
}

/** A key on one side only, widened with what the other side allows for it (its `additionalProperties`). */
function onlyOneSide(property: DdlSchema, otherAdditional: Additional | undefined): DdlSchema {
  if (otherAdditional === false) return property;
  if (otherAdditional === undefined || otherAdditional === true) return {};
  return widened(otherAdditional, property);
}

function distinctEnums(values: EnumValue[]): EnumValue[] {
  const seen = new Set<string>();
  return values.filter((v) => !seen.has(canonicalJson(v.json)) && seen.add(canonicalJson(v.json)) !== undefined);
}

function distinctSchemas(schemas: DdlSchema[]): DdlSchema[] {
  const seen = new Set<string>();
  return schemas.filter((s) => {
    const key = schemaKey(s);
    return !seen.has(key) && seen.add(key) !== undefined;
  });
}

function schemaKey(s: DdlSchema): string {
  return JSON.stringify(s, (_key, value: unknown) =>
    value instanceof Map ? Object.fromEntries(value) : value instanceof Set ? [...value] : typeof value === 'bigint' ? `${value}n` : value,
  );
}
