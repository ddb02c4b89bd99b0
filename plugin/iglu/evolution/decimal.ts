/**
 * Exact decimals, as schema-ddl reads JSON numbers (Java `BigDecimal`): `unscaled × 10^-scale`. Only what
 * the evolution rules need: reading a JSON number's text, comparing, precision and scale.
 */
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

export function decimalOf(value: bigint | number): Decimal {
  return typeof value === 'bigint' ? { unscaled: value, scale: 0 } : (parseDecimal(String(value)) ?? { unscaled: 0n, scale: 0 });
}

/** Whether the decimal is a whole number (circe's `toBigInt` succeeds). */
export function isWhole(d: Decimal): boolean {
  return d.scale <= 0 || d.unscaled % 10n ** BigInt(d.scale) === 0n;
}

/** The whole number a decimal holds (only for `isWhole`). */
export function toBigInt(d: Decimal): bigint {
  return d.scale <= 0 ? d.unscaled * 10n ** BigInt(-d.scale) : d.unscaled / 10n ** BigInt(d.scale);
}

export function compareDecimals(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const x = a.unscaled * 10n ** BigInt(scale - a.scale);
  const y = b.unscaled * 10n ** BigInt(scale - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Java `BigDecimal.precision`: the number of digits of the unscaled value (1 for zero). */
export function precision(d: Decimal): number {
  return (d.unscaled < 0n ? -d.unscaled : d.unscaled).toString().length;
}

export function absDecimal(d: Decimal): Decimal {
  return d.unscaled < 0n ? { unscaled: -d.unscaled, scale: d.scale } : d;
}
