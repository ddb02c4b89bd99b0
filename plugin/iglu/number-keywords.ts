/**
 * The JSON Schema keywords whose verdicts depend on a number's exact decimal value: `multipleOf`,
 * `minimum`/`maximum` (with draft-04's boolean `exclusiveMinimum`/`exclusiveMaximum`) and `type: integer`.
 * Ajv judges JS numbers (19.99 is not a multiple of 0.01 in binary; `1.0` is an integer); Snowplow judges
 * decimals. Each keyword comes in two compiled forms, with the same verdicts wherever both apply:
 *
 * - **fast**: for numbers parsed by `JSON.parse` from tokens that a double keeps exactly (see json-text.ts):
 *   such a number's shortest printed form is its token's decimal value, so it can be judged on the double,
 *   inline, with no lookup of kept texts.
 * - **exact**: for values from `parseJsonExact`, whose inexact numbers carry their text: the text is read
 *   where one was kept (`1.0`, `1e400`, `9007199254740993`), the double elsewhere.
 *
 * Schema constants are read from their own text when it was kept (`maximum: 9223372036854775807` is not
 * 2^63). Bounds are compared on doubles, and on decimals only where the doubles are equal: rounding keeps
 * order, so that is the only case where doubles and decimals can disagree.
 */
import { _, str, type Code, type CodeKeywordDefinition, type FuncKeywordDefinition, type KeywordCxt } from 'ajv';
import type { DataValidationCxt, KeywordErrorCxt } from 'ajv/dist/types/index.js';
import type { IgluAjv } from './ajv.js';
import { compareNumberTexts, isDecimalMultiple, isIntegerText, parseDecimal } from './decimal.js';
import { numberTextAt } from './exact-json.js';

/** How an Ajv judges numbers: `exact` and `fast` give Snowplow's verdicts (see above); `plain` is Ajv's own, on doubles (the benchmark's baseline). */
export type NumberVerdicts = 'exact' | 'fast' | 'plain';

/** Added by `forSnowplow` to each subschema whose `type` allows `integer` but not `number`: the token must be written as an integer. */
export const INTEGER_TEXT = 'igluIntegerText';

/** Keywords whose verdict can change when a number's text is not what its double prints. */
const NUMBER_KEYWORDS = ['multipleOf', 'minimum', 'maximum', INTEGER_TEXT];

export function addNumberKeywords(ajv: IgluAjv, verdicts: NumberVerdicts): void {
  if (verdicts === 'plain') {
    ajv.addKeyword(INTEGER_TEXT); // an annotation: Ajv's own `integer` judges the double
    return;
  }
  ajv.removeKeyword('multipleOf');
  ajv.removeKeyword('maximum');
  ajv.removeKeyword('minimum');
  ajv.addKeyword(verdicts === 'exact' ? exactMultipleOf : fastMultipleOf);
  ajv.addKeyword(bounds);
  if (verdicts === 'exact') ajv.addKeyword(integerText);
  else ajv.addKeyword(INTEGER_TEXT); // a double parsed from an exact token is integral exactly when its token is
}

/**
 * Whether a schema (as `forSnowplow` made it) uses a keyword of this module anywhere: its verdicts on
 * an inexact token can differ between a JS number and its text.
 */
export function judgesNumberTexts(schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object') return false;
  if (Array.isArray(schema)) return schema.some(judgesNumberTexts);
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'enum' || key === 'default') continue; // data, not subschemas
    if (NUMBER_KEYWORDS.includes(key) && value !== undefined) return true;
    if (typeof value === 'object' && judgesNumberTexts(value)) return true;
  }
  return false;
}

/** The text of a schema's numeric constant: as written in the schema file when a double does not keep it. */
function constantText(cxt: KeywordErrorCxt): string {
  return numberTextAt(cxt.parentSchema, cxt.keyword) ?? String(cxt.schema);
}

/** Ajv's message and params, with the divisor as the schema writes it. */
const multipleOfError = {
  message: (cxt: KeywordErrorCxt) => str`must be multiple of ${constantText(cxt)}`,
  params: ({ schemaCode }: KeywordErrorCxt) => _`{multipleOf: ${schemaCode}}`,
};

/** `multipleOf` whose verdict is `isMultiple(…)`, given the data's code, the divisor's text and plan. */
function multipleOfKeyword(isMultiple: (cxt: KeywordCxt, plan: { scale: number; factor: number }, divisor: string) => Code): CodeKeywordDefinition {
  return {
    keyword: 'multipleOf',
    type: 'number',
    schemaType: 'number',
    error: multipleOfError,
    code(cxt) {
      const divisor = constantText(cxt);
      cxt.fail(_`!${isMultiple(cxt, multipleOfPlan(divisor), divisor)}`);
    },
  };
}

/** `multipleOf` on doubles from exact tokens: integer arithmetic where it is exact, decimals otherwise. */
const fastMultipleOf = multipleOfKeyword((cxt, plan, divisor) => {
  const isMultiple = cxt.gen.scopeValue('func', { ref: isMultipleOfDouble });
  return _`${isMultiple}(${cxt.data}, ${plan.scale}, ${plan.factor}, ${divisor})`;
});

/** `multipleOf` on the kept text where there is one. */
const exactMultipleOf = multipleOfKeyword((cxt, plan, divisor) => {
  const isMultiple = cxt.gen.scopeValue('func', { ref: isMultipleOfText });
  const { parentData, parentDataProperty } = cxt.it;
  return _`${isMultiple}(${cxt.data}, ${parentData}, ${parentDataProperty}, ${plan.scale}, ${plan.factor}, ${divisor})`;
});

/**
 * A divisor `factor × 10^-log10(scale)` with both parts small enough for exact double arithmetic
 * (factor below 2^53, scale at most 10^22), or scale 0 when it is not: then only decimals are used.
 */
function multipleOfPlan(divisor: string): { scale: number; factor: number } {
  const d = parseDecimal(divisor);
  if (d === null || d.digits === '' || d.digits.length > 15) return { scale: 0, factor: 0 };
  if (d.exponent >= 0) {
    const factor = Number(d.digits) * 10 ** d.exponent;
    return Number.isSafeInteger(factor) ? { scale: 1, factor } : { scale: 0, factor: 0 };
  }
  return -d.exponent <= 22 ? { scale: 10 ** -d.exponent, factor: Number(d.digits) } : { scale: 0, factor: 0 };
}

/**
 * Whether the decimal a double prints as is a multiple of `factor / scale`. Below 10^15, `n / scale` is the
 * double of a decimal of at most 15 digits, so it equals `value` exactly when `value`'s printed form is
 * `n / scale`. Elsewhere (huge values, odd divisors) decimals decide.
 */
function isMultipleOfDouble(value: number, scale: number, factor: number, divisor: string): boolean {
  const scaled = value * scale;
  if (scaled < 1e15 && scaled > -1e15 && scale !== 0) {
    const n = Math.round(scaled);
    return n / scale === value && n % factor === 0;
  }
  return isDecimalMultiple(String(value), divisor);
}

function isMultipleOfText(value: number, parent: unknown, key: string | number | undefined, scale: number, factor: number, divisor: string): boolean {
  const text = numberTextAt(parent, key);
  return text === undefined ? isMultipleOfDouble(value, scale, factor, divisor) : isDecimalMultiple(text, divisor);
}

const BOUNDS = {
  maximum: { exclusive: 'exclusiveMaximum', sign: 1, ok: ['<=', '<'] },
  minimum: { exclusive: 'exclusiveMinimum', sign: -1, ok: ['>=', '>'] },
} as const;

function boundOf(cxt: KeywordErrorCxt): { sign: 1 | -1; exclusive: boolean; okText: string } {
  const bound = BOUNDS[cxt.keyword as keyof typeof BOUNDS];
  const exclusive = (cxt.parentSchema as Record<string, unknown>)[bound.exclusive] === true;
  return { sign: bound.sign, exclusive, okText: bound.ok[exclusive ? 1 : 0] };
}

/**
 * draft-04 `minimum`/`maximum`, Ajv's messages (with the bound as the schema writes it) and params: a double above (below) the bound's double
 * fails and one below (above) passes, as its decimal does; equal doubles are compared as decimals (the
 * kept text, or the double's printed form, against the bound's text).
 */
const bounds: CodeKeywordDefinition = {
  keyword: ['maximum', 'minimum'],
  type: 'number',
  schemaType: 'number',
  error: {
    message: (cxt) => str`must be ${boundOf(cxt).okText} ${constantText(cxt)}`,
    params: (cxt) => _`{comparison: ${boundOf(cxt).okText}, limit: ${cxt.schemaCode}}`,
  },
  code(cxt) {
    const { data, schemaCode } = cxt;
    const { sign, exclusive } = boundOf(cxt);
    const compare = cxt.gen.scopeValue('func', { ref: compareToBound });
    const { parentData, parentDataProperty } = cxt.it;
    const decimals = _`${compare}(${data}, ${parentData}, ${parentDataProperty}, ${constantText(cxt)}) * ${sign}`;
    const beyond = sign === 1 ? _`${data} > ${schemaCode}` : _`${data} < ${schemaCode}`;
    cxt.fail(_`${beyond} || (${data} === ${schemaCode} && ${decimals} ${exclusive ? _`>=` : _`>`} 0) || ${data} !== ${data}`);
  },
};

function compareToBound(value: number, parent: unknown, key: string | number | undefined, bound: string): number {
  return compareNumberTexts(numberTextAt(parent, key) ?? String(value), bound);
}

/**
 * Snowplow's `integer`: the token has no fraction or exponent part (`1.0`, `1e2`, `1e400` are decimals).
 * Ajv's own `type` check has already judged the double; this refuses an integral double whose kept text
 * is not an integer, as a `type` error. (A function keyword, to report under `type`: it runs on exact
 * values only, which are rare.)
 */
const integerText: FuncKeywordDefinition = {
  keyword: INTEGER_TEXT,
  type: 'number',
  schemaType: 'boolean',
  errors: true,
  validate: isWrittenAsInteger,
};

function isWrittenAsInteger(this: unknown, _on: boolean, value: number, _parent?: unknown, cxt?: DataValidationCxt): boolean {
  if (!Number.isInteger(value) && Math.abs(value) !== Infinity) return true; // Ajv's `type` has reported it
  const text = numberTextAt(cxt?.parentData, cxt?.parentDataProperty);
  if (text === undefined || isIntegerText(text)) return true;
  isWrittenAsInteger.errors = [{ keyword: 'type', message: 'must be integer', params: { type: 'integer', found: 'number' } }];
  return false;
}
isWrittenAsInteger.errors = [] as Array<Record<string, unknown>>;
