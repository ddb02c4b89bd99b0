/**
 * Versioning advice: the smallest SchemaVer bump a new version needs, as Snowplow's versioning docs define
 * them (docs.snowplow.io, "SchemaVer" and "Version and amend data structures"):
 * - MODEL: a breaking change, which prevents interaction with any historical data: one the warehouse
 *   loader cannot migrate (the target's rules), or, per the docs' table, a field made required, or a
 *   required field removed;
 * - REVISION: a change that may prevent interaction with some historical data: a property added where the
 *   previous version allowed additional properties (SchemaVer's own example), or a constraint tightened;
 * - ADDITION: compatible with all historical data.
 */
import { pointerSegment } from '../json.js';

export type Bump = 'MODEL' | 'REVISION' | 'ADDITION';

export type Version = readonly [number, number, number];

const RANK: Record<Bump, number> = { ADDITION: 0, REVISION: 1, MODEL: 2 };

export function bumpRank(bump: Bump): number {
  return RANK[bump];
}

/** The bump from one version to a later one: which part changed first. */
export function chosenBump(from: Version, to: Version): Bump {
  if (to[0] !== from[0]) return 'MODEL';
  return to[1] !== from[1] ? 'REVISION' : 'ADDITION';
}

/** The version a bump from `from` gives. */
export function bumped(from: Version, bump: Bump): string {
  if (bump === 'MODEL') return `${from[0] + 1}-0-0`;
  if (bump === 'REVISION') return `${from[0]}-${from[1] + 1}-0`;
  return `${from[0]}-${from[1]}-${from[2] + 1}`;
}

export interface BumpAdvice {
  smallest: Bump;
  /** Why, one line each: the reasons for the level found (none for an ADDITION). */
  reasons: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const at = (pointer: string) => (pointer === '' ? 'the root' : pointer);

/** The smallest bump from `previous` to `next` (raw schemas), given the target's breaking changes between them. */
export function smallestBump(previous: Json, next: Json, targetBreaking: string[]): BumpAdvice {
  const model = [...targetBreaking];
  const revision: string[] = [];
  compareObjects(previous, next, '', model, revision);
  if (model.length > 0) return { smallest: 'MODEL', reasons: model };
  if (revision.length > 0) return { smallest: 'REVISION', reasons: revision };
  return { smallest: 'ADDITION', reasons: [] };
}

function compareObjects(previous: Json, next: Json, pointer: string, model: string[], revision: string[]): void {
  const before = isObject(previous.properties) ? previous.properties : {};
  const after = isObject(next.properties) ? next.properties : {};
  const requiredBefore = new Set(Array.isArray(previous.required) ? previous.required : []);
  const requiredAfter = new Set(Array.isArray(next.required) ? next.required : []);
  for (const key of requiredAfter) if (!requiredBefore.has(key)) model.push(`${at(pointer)}: "${String(key)}" is required now`);
  for (const key of requiredBefore) if (!Object.hasOwn(after, String(key))) model.push(`${at(pointer)}: the required property "${String(key)}" was removed`);
  const wasOpen = previous.additionalProperties !== false;
  for (const key of Object.keys(after)) {
    if (Object.hasOwn(before, key)) continue;
    if (wasOpen) revision.push(`${at(pointer)}: "${key}" added where the previous version allowed additional properties, so older data may hold it with another type`);
  }
  if (wasOpen && next.additionalProperties === false) revision.push(`${at(pointer)}: additionalProperties is false now`);
  for (const key of Object.keys(after)) {
    const [p, n] = [before[key], after[key]];
    if (isObject(p) && isObject(n)) compareSubschemas(p, n, `${pointer}/properties/${pointerSegment(key)}`, model, revision);
  }
}

function compareSubschemas(previous: Json, next: Json, pointer: string, model: string[], revision: string[]): void {
  const typeChange = changedType(previous, next);
  if (typeChange !== null) model.push(`${pointer}: ${typeChange}`);
  for (const reason of tightened(previous, next)) revision.push(`${pointer}: ${reason}`);
  compareObjects(previous, next, pointer, model, revision);
  if (isObject(previous.items) && isObject(next.items)) compareSubschemas(previous.items, next.items, `${pointer}/items`, model, revision);
}

const UPPER = ['maxLength', 'maxItems', 'maxProperties', 'maximum'];
const LOWER = ['minLength', 'minItems', 'minProperties', 'minimum'];
const EXACT = ['pattern', 'format', 'multipleOf'];

const typesOf = (s: Json) => (s.type === undefined ? null : new Set<unknown>(Array.isArray(s.type) ? s.type : [s.type]));
const allows = (types: Set<unknown> | null, t: unknown) => types === null || types.has(t) || (t === 'integer' && types.has('number'));

/** The docs' "change the type of an existing field": no value of the old non-null types is allowed any more. */
function changedType(previous: Json, next: Json): string | null {
  const [before, after] = [typesOf(previous), typesOf(next)];
  if (before === null || after === null) return null;
  const kept = [...before].filter((t) => t !== 'null' && allows(after, t));
  const old = [...before].filter((t) => t !== 'null');
  return old.length > 0 && kept.length === 0 ? `the type changed from ${old.join(', ')} to ${[...after].join(', ')}` : null;
}

/** The constraints of one property that accept less than before. */
function tightened(previous: Json, next: Json): string[] {
  const reasons: string[] = [];
  const [before, after] = [typesOf(previous), typesOf(next)];
  const lost = before === null ? [] : [...before].filter((t) => !allows(after, t));
  if (after !== null && (before === null || lost.length > 0) && changedType(previous, next) === null) {
    reasons.push(before === null ? 'a type is set now' : `the type no longer allows ${lost.join(', ')}`);
  }
  const bound = (key: string, moved: string, allowed: (n: number, p: number) => boolean) => {
    const [p, n] = [previous[key], next[key]];
    if (typeof n !== 'number' || (typeof p === 'number' && allowed(n, p))) return;
    reasons.push(typeof p === 'number' ? `${key} ${moved} from ${p} to ${n}` : `${key} added: ${n}`);
  };
  for (const key of UPPER) bound(key, 'lowered', (n, p) => n >= p);
  for (const key of LOWER) bound(key, 'raised', (n, p) => n <= p);
  for (const key of EXACT) if (next[key] !== undefined && JSON.stringify(next[key]) !== JSON.stringify(previous[key])) reasons.push(`${key} ${previous[key] === undefined ? 'added' : 'changed'}: ${JSON.stringify(next[key])}`);
  if (Array.isArray(next.enum)) {
    const kept = new Set(next.enum.map((v) => JSON.stringify(v)));
    const dropped = Array.isArray(previous.enum) ? previous.enum.filter((v) => !kept.has(JSON.stringify(v))) : null;
    if (dropped === null) reasons.push('enum added');
    else if (dropped.length > 0) reasons.push(`enum no longer allows ${dropped.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  return reasons;
}
