import { parse as parseLossless } from 'lossless-json';
import { holdsInexactNumber, isInexactToken } from './json-text.js';

/**
 * JSON numbers as Snowplow's validator sees them: decimals judged on their text (`1.0` is not an integer,
 * `19.99` is a multiple of `0.01`). A JS number loses that text, so the text of each number that a JS
 * number does not keep exactly is kept beside the parsed value, keyed by its container and key; every
 * container that holds such a number, directly or below, is marked (`hasKeptTexts`).
 */
const numberTexts = new WeakMap<object, Map<string, string>>();
const holdsTexts = new WeakSet<object>();

/** The source text of the number at `container[key]`, when a JS number does not keep it exactly. */
export function numberTextAt(container: unknown, key: string | number | undefined): string | undefined {
  if (container === null || typeof container !== 'object' || key === undefined) return undefined;
  return numberTexts.get(container)?.get(String(key));
}

/** Whether `value` holds, at any depth, a number whose text was kept (a value from `parseJsonExact`). */
export function hasKeptTexts(value: unknown): boolean {
  return typeof value === 'object' && value !== null && holdsTexts.has(value);
}

/** Keeps `text` as the exact text of the number at `container[key]` (a schema's constants, copied). */
export function keepNumberText(container: object, key: string, text: string): void {
  let texts = numberTexts.get(container);
  if (texts === undefined) numberTexts.set(container, (texts = new Map()));
  texts.set(key, text);
  holdsTexts.add(container);
}

/**
 * `JSON.parse`, plus the text of every number that a JS number does not keep exactly (`1.0`, `1e2`,
 * `1e400`, 20 digits). Such texts are rare: they alone take the slower lossless parse.
 */
export function parseJsonExact(text: string): unknown {
  const value: unknown = JSON.parse(text); // throws JSON.parse's SyntaxError, which callers report
  if (!holdsInexactNumber(text)) return value;
  try {
    return parseLossless(text, reviveNumberText, keepInexact);
  } catch {
    return value; // e.g. a duplicate key (JSON.parse keeps the last): judged on the JS numbers
  }
}

class NumberText {
  constructor(readonly text: string) {}
}

function keepInexact(text: string): number | NumberText {
  return isInexactToken(text) ? new NumberText(text) : Number(text);
}

function reviveNumberText(this: object, key: string, value: unknown): unknown {
  if (this instanceof NumberText) return value; // lossless-json also revives the fields of what keepInexact made
  if (value instanceof NumberText) {
    keepNumberText(this, key, value.text);
    return Number(value.text);
  }
  if (hasKeptTexts(value)) holdsTexts.add(this); // containers are revived after their contents: marks every ancestor
  return value;
}
