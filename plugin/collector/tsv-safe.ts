/**
 * Text as Enrich stores it (snowplow/enrich, `ConversionUtils.fixTabsNewlines`, which `toTsvSafe` applies to
 * the tracker's text parameters): a tab becomes four spaces, then every control character (Java's
 * `\p{Cntrl}`: U+0000–U+001F and U+007F, so line breaks too) is removed; what is left empty is no value.
 * So the JSON and the TSV of an event hold the same text.
 */
export function toTsvSafe(value: string | null | undefined): string | null | undefined {
  if (value === null || value === undefined) return value;
  const cleaned = CONTROL.test(value) ? value.replace(/\t/g, '    ').replace(CONTROL_ALL, '') : value;
  return cleaned === '' ? null : cleaned;
}

const CONTROL = /[\x00-\x1f\x7f]/;
const CONTROL_ALL = /[\x00-\x1f\x7f]/g;
