/**
 * Cheap questions asked of a JSON text before or instead of walking what it parses to: whether it may hold
 * a number token that a JavaScript number does not keep exactly, and whether it can nest deeply. Both err
 * only on the safe side (a "maybe" costs a closer look, never a wrong verdict).
 */
import { parseDecimal } from './decimal.js';

/**
 * Whether `text` (valid JSON) holds a number token whose JS number differs from it (see `isInexactToken`).
 * Every number token of an object or array follows a `:`, `[` or `,` (and maybe whitespace), so those are
 * found with `indexOf` (`[` and `,` only when the text has an array) and the token after each is read: no
 * pass over every character. The same characters inside a string may look like a token (`"a:1.0,"`):
 * a false alarm costs a closer look, never a wrong verdict. A top-level scalar is not looked at: no
 * schema judges it here.
 */
export function holdsInexactNumber(text: string): boolean {
  if (tokenAfterAny(text, ':')) return true;
  return text.includes('[') && (tokenAfterAny(text, '[') || tokenAfterAny(text, ','));
}

function tokenAfterAny(text: string, separator: string): boolean {
  for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, at + 1)) {
    const next = text.charCodeAt(at + 1);
    if (next === 34 || next === 123 || next === 91) continue; // " { [: a string, object or array follows (the usual case)
    if (isInexactTokenAt(text, at + 1)) return true;
  }
  return false;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Whether a number token starts at `start` (after whitespace) and is inexact. Only a token with an
 * exponent, a fraction ending in 0 or 16 digits or more can be (any other has at most 15 significant
 * digits and no exponent, and a double keeps 15 digits exactly), so only those are looked at closely.
 */
function isInexactTokenAt(text: string, start: number): boolean {
  let i = start;
  while (isSpace(text.charCodeAt(i))) i++;
  const first = i;
  if (text.charCodeAt(i) === 45) i++; // -
  if (!isDigit(text.charCodeAt(i))) return false;
  let digits = 0;
  let fraction = false;
  let exponent = false;
  let last = 0;
  for (let c = text.charCodeAt(i); i < text.length; c = text.charCodeAt(++i)) {
    if (isDigit(c)) digits++;
    else if (c === 46) fraction = true; // .
    else if (c === 101 || c === 69) exponent = true; // e E
    else if (c !== 43 && c !== 45) break; // + -
    last = c;
  }
  if (!exponent && digits < 16 && !(fraction && last === 48)) return false;
  const end = i;
  while (isSpace(text.charCodeAt(i))) i++;
  const next = text.charCodeAt(i);
  if (i < text.length && next !== 44 && next !== 125 && next !== 93) return false; // not followed by , } ]: inside a string
  return isInexactToken(text.slice(first, end));
}

/**
 * A number token whose JS number does not give Snowplow's verdicts: not finite (`1e400`), integral but
 * written with a fraction or exponent (`1.0`, `1e2`: a decimal to Snowplow), or another decimal than the
 * double's shortest form (`0.1000000000000000055`, `9007199254740993`).
 */
export function isInexactToken(token: string): boolean {
  const value = Number(token);
  if (!Number.isFinite(value)) return true;
  if (Number.isInteger(value) && /[.eE]/.test(token)) return true;
  const printed = String(value);
  if (printed === token) return false;
  const written = parseDecimal(token);
  const kept = parseDecimal(printed);
  return written === null || kept === null || written.digits !== kept.digits || written.exponent !== kept.exponent || written.negative !== kept.negative;
}

/**
 * True when `text` cannot nest more than `max` levels: it is short, or it has at most `max` opening
 * brackets (counted with `indexOf`, strings included). False means "maybe deeper": walk the parsed value.
 */
export function nestsAtMost(text: string, max: number): boolean {
  if (text.length <= 2 * max) return true; // each level takes an opening and a closing bracket
  let count = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++count > max) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++count > max) return false;
  return true;
}
