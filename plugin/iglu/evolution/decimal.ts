/**
 * Exact decimals, as schema-ddl reads JSON numbers (Java `BigDecimal`): `unscaled × 10^-scale`. Only what
 * the evolution rules need: reading a JSON number's text, comparing, precision and scale. No power of ten
 * is built from an exponent alone (`1e999999999` stays a one-digit number with a scale): comparisons go
 * through `../decimal.js`, and a whole number is made only up to `WHOLE_DIGITS` digits.
 */
import { compareDecimals as compareDigits, type Decimal as DigitDecimal } from '../decimal.js';

export interface Decimal {
  unscaled: bigint;
  scale: number;
}

/**
 * A JSON number's text as a decimal. A number written with a fraction or exponent loses its trailing
 * zeros (circe's `BiggerDecimal`); a plain integer keeps scale 0. `null` for text that is not a number.
 */
export function parseDecimal(text: string): Decimal | null {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (match === null) return null;
  const [, sign, whole, fraction = '', exponent] = match;
  let unscaled = BigInt(`${sign}${whole}${fraction}`);
  let scale = fraction.length - Number(exponent ?? '0');
  if (fraction === '' && exponent === undefined) return { unscaled, scale: 0 };
  if (unscaled === 0n) return { unscaled: 0n, scale: 0 };
  while (unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale--;
  }
  return { unscaled, scale };
}

/** Whether the decimal is a whole number (circe's `toBigInt` succeeds). */
export function isWhole(d: Decimal): boolean {
  return d.scale <= 0 || d.unscaled === 0n || trailingZeros(d.unscaled) >= d.scale;
}

/**
 * Digits a whole number is made with at most: every rule compares it with column bounds (`Long`,
 * `VARCHAR(65535)`) far below, so a larger one saturates at ±10^WHOLE_DIGITS with the same verdicts.
 */
const WHOLE_DIGITS = 1000;

/** The whole number a decimal holds (only for `isWhole`), saturating past `WHOLE_DIGITS` digits. */
export function toBigInt(d: Decimal): bigint {
  if (d.scale > 0) return d.unscaled / 10n ** BigInt(d.scale); // scale <= the digits' trailing zeros (isWhole)
  if (d.unscaled === 0n || precision(d) - d.scale <= WHOLE_DIGITS) return d.unscaled * 10n ** BigInt(-d.scale);
  return (d.unscaled < 0n ? -1n : 1n) * 10n ** BigInt(WHOLE_DIGITS);
}

/** The digits of the whole number a decimal holds (only for `isWhole`), however many. */
export function wholeDigits(d: Decimal): number {
  return d.unscaled === 0n ? 1 : precision(d) - d.scale;
}

export function compareDecimals(a: Decimal, b: Decimal): number {
  return compareDigits(digitDecimal(a), digitDecimal(b));
}

/** The same value in `../decimal.js`'s form: digits without leading or trailing zeros and an exponent. */
function digitDecimal(d: Decimal): DigitDecimal {
  if (d.unscaled === 0n) return { negative: false, digits: '', exponent: 0 };
  const text = (d.unscaled < 0n ? -d.unscaled : d.unscaled).toString();
  const zeros = trailingZeros(d.unscaled);
  return { negative: d.unscaled < 0n, digits: text.slice(0, text.length - zeros), exponent: zeros - d.scale };
}

function trailingZeros(n: bigint): number {
  const text = n.toString();
  let end = text.length;
  while (end > 1 && text.charCodeAt(end - 1) === 48) end--;
  return text.length - end;
}

/** Java `BigDecimal.precision`: the number of digits of the unscaled value (1 for zero). */
export function precision(d: Decimal): number {
  return (d.unscaled < 0n ? -d.unscaled : d.unscaled).toString().length;
}

export function absDecimal(d: Decimal): Decimal {
  return d.unscaled < 0n ? { unscaled: -d.unscaled, scale: d.scale } : d;
}
