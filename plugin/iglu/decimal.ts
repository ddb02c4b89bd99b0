/**
 * Exact decimal arithmetic on JSON number texts, as Snowplow's validator judges numbers (Jackson
 * BigDecimal/BigInteger under networknt): `19.99` is a multiple of `0.01`, `9223372036854775808` is above
 * `9223372036854775807`. Work is bounded by the texts' lengths: an exponent such as `1e999999999` never
 * becomes a billion-digit number.
 */

/** A decimal as `(negative ? -1 : 1) × digits × 10^exponent`; `digits` has no leading or trailing zeros ('' for zero). */
export interface Decimal {
  negative: boolean;
  digits: string;
  exponent: number;
}

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** The decimal a JSON number text (or a JavaScript number's `String()`) stands for; `null` for `Infinity`, `NaN` and non-numbers. */
export function parseDecimal(text: string): Decimal | null {
  const match = NUMBER.exec(text);
  if (match === null) return null;
  const [, sign, whole, fraction = '', exp = '0'] = match;
  const all = `${whole}${fraction}`;
  let start = 0;
  while (start < all.length && all.charCodeAt(start) === 48) start++;
  let end = all.length;
  while (end > start && all.charCodeAt(end - 1) === 48) end--;
  if (start === end) return { negative: false, digits: '', exponent: 0 };
  const exponent = Number(exp) - fraction.length + (all.length - end);
  if (!Number.isFinite(exponent)) return null; // an exponent of hundreds of digits: judged as the JS number (±Infinity or 0)
  return { negative: sign === '-', digits: all.slice(start, end), exponent };
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`, both JSON number texts (or `String()` of a JS number). */
export function compareNumberTexts(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (x === null || y === null) return Math.sign(Number(a) - Number(b)) || 0; // ±Infinity from a JS value: JS order
  return compareDecimals(x, y);
}

export function compareDecimals(x: Decimal, y: Decimal): number {
  const sx = x.digits === '' ? 0 : x.negative ? -1 : 1;
  const sy = y.digits === '' ? 0 : y.negative ? -1 : 1;
  if (sx !== sy || sx === 0) return Math.sign(sx - sy);
  const magnitude = compareMagnitudes(x, y);
  return sx < 0 ? -magnitude : magnitude;
}

/** Compares |x| and |y| (both non-zero): first by the position of the leading digit, then digit by digit. */
function compareMagnitudes(x: Decimal, y: Decimal): number {
  const leadX = x.exponent + x.digits.length;
  const leadY = y.exponent + y.digits.length;
  if (leadX !== leadY) return leadX > leadY ? 1 : -1;
  const length = Math.max(x.digits.length, y.digits.length);
  const a = x.digits.padEnd(length, '0');
  const b = y.digits.padEnd(length, '0');
  return a === b ? 0 : a > b ? 1 : -1;
}

/**
 * `value` is a whole multiple of `divisor`, both number texts, in exact decimal arithmetic. A text that is
 * not a decimal (`Infinity` from a JS value) or a zero divisor is left to the other keywords (true).
 */
export function isDecimalMultiple(value: string, divisor: string): boolean {
  const a = parseDecimal(value);
  const b = parseDecimal(divisor);
  if (a === null || b === null || b.digits === '') return true;
  if (a.digits === '') return true;
  // a = A·10^ea and b = B·10^eb, A and B without trailing zeros. If ea < eb, A would need 10^(eb-ea) as a factor: it has none.
  if (a.exponent < b.exponent) return false;
  const modulus = BigInt(b.digits);
  return (BigInt(a.digits) % modulus) * powerOfTenModulo(a.exponent - b.exponent, modulus) % modulus === 0n;
}

/** 10^exponent mod modulus, by squaring: no number larger than modulus² is made. */
function powerOfTenModulo(exponent: number, modulus: bigint): bigint {
  let result = 1n % modulus;
  let base = 10n % modulus;
  for (let e = exponent; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result;
}

/** A number's text has no fraction or exponent part (Snowplow's `integer`: Jackson's IntNode, LongNode, BigIntegerNode). */
export function isIntegerText(text: string): boolean {
  return /^-?\d+$/.test(text);
}
