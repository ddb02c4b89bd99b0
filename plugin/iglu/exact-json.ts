import { parse as parseLossless } from 'lossless-json';

/**
 * JSON numbers as Snowplow's validator sees them: decimals judged on their text (`1.0` is not an integer,
 * `19.99` is a multiple of `0.01`). A JS number loses that text, so the text of each number that a JS
 * number does not give back exactly is kept beside the parsed value, keyed by its container and key.
 */
const numberTexts = new WeakMap<object, Map<string, string>>();

/** The source text of the number at `container[key]`, when it differs from what the JS number prints. */
export function numberTextAt(container: unknown, key: string | number | undefined): string | undefined {
  if (container === null || typeof container !== 'object' || key === undefined) return undefined;
  return numberTexts.get(container)?.get(String(key));
}

/**
 * `JSON.parse`, plus the text of every number whose JS value does not print back as written (`1.0`,
 * `1e2`, `0.10`, 20 digits). Such lines are rare: they alone take the slower lossless parse.
 */
export function parseJsonExact(text: string): unknown {
  const value: unknown = JSON.parse(text); // throws JSON.parse's SyntaxError, which callers report
  if (!hasInexactNumber(text)) return value;
  try {
    return parseLossless(text, keepNumberText, keepInexact);
  } catch {
    return value; // e.g. a duplicate key (JSON.parse keeps the last): judged on the JS numbers
  }
}

/** What a JS number makes of `text` differs from the text's own reading: a fraction or exponent on an integer, or a different print. */
function isInexact(text: string): boolean {
  const value = Number(text);
  return String(value) !== text || (Number.isInteger(value) && /[.eE]/.test(text));
}

class NumberText {
  constructor(readonly text: string) {}
}

function keepInexact(text: string): number | NumberText {
  return isInexact(text) ? new NumberText(text) : Number(text);
}

function keepNumberText(this: object, key: string, value: unknown): unknown {
  if (!(value instanceof NumberText)) return value;
  let texts = numberTexts.get(this);
  if (texts === undefined) numberTexts.set(this, (texts = new Map()));
  texts.set(key, value.text);
  return Number(value.text);
}

const QUOTE = 34;
const BACKSLASH = 92;

/** Scans the number tokens outside strings for one that a JS number does not keep exactly. */
export function hasInexactNumber(text: string): boolean {
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      continue;
    }
    if (c !== 45 && (c < 48 || c > 57)) {
      i++;
      continue;
    }
    let j = i;
    let digits = 0;
    let suspect = false;
    for (; j < length; j++) {
      const d = text.charCodeAt(j);
      if (d >= 48 && d <= 57) digits++;
      else if (d === 46 || d === 101 || d === 69) suspect = true; // . e E
      else if (d !== 43 && d !== 45) break; // + -
    }
    if ((suspect || digits > 15) && isInexact(text.slice(i, j))) return true;
    i = j;
  }
  return false;
}

function endOfString(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const close = text.indexOf('"', from);
    if (close === -1) return text.length;
    let backslashes = 0;
    for (let b = close - 1; text.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return close + 1;
    from = close + 1;
  }
}

/** `value` is a whole multiple of `divisor`, in exact decimal arithmetic on their texts. */
export function isDecimalMultiple(value: string, divisor: string): boolean {
  const a = decimal(value);
  const b = decimal(divisor);
  if (a === null || b === null || b.digits === 0n) return true; // not a number we can judge: leave it to the type check
  const scale = Math.max(a.exponent, b.exponent) - Math.min(a.exponent, b.exponent);
  if (scale > 400) return a.digits === 0n; // beyond any double's range: only zero is a multiple we can prove
  const [x, y] = a.exponent >= b.exponent ? [a.digits * 10n ** BigInt(scale), b.digits] : [a.digits, b.digits * 10n ** BigInt(scale)];
  return x % y === 0n;
}

/** A decimal text as `digits × 10^exponent`. */
function decimal(text: string): { digits: bigint; exponent: number } | null {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (match === null) return null;
  const [, sign, whole, fraction = '', exp = '0'] = match;
  return { digits: BigInt(`${sign}${whole}${fraction}`), exponent: Number(exp) - fraction.length };
}

/** A number's text has no fraction or exponent part (Snowplow's `integer`). */
export function isIntegerText(text: string): boolean {
  return /^-?\d+$/.test(text);
}
