// The validator's fast path (JSON.parse, and exact numbers only where a verdict depends on them) gives the
// verdicts of the exact path on every instance: Snowplow's verdicts, which judge numbers as decimals on
// their JSON text (iglu-scala-client on networknt, Jackson's BigDecimal/BigInteger).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parse as parseLossless } from 'lossless-json';
import { startCollector } from '../plugin/collector/index.js';
import { IgluValidator, parseJsonExact } from '../plugin/iglu/index.js';
import { holdsInexactNumber, isInexactToken } from '../plugin/iglu/json-text.js';
import { CLIENT_SESSION_SCHEMA, CONTEXTS_SCHEMA, IGLU_META_SCHEMA_URI, PAYLOAD_DATA_SCHEMA } from '../plugin/schema-uris.js';
import { micro } from './helpers/micro.js';
import { runCli } from './helpers/run-cli.js';

const THING = 'iglu:com.acme/numbers/jsonschema/1-0-0';
const PRODUCT = 'iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0';
const LONG_MAX = '9223372036854775807';

/** Every number keyword, with constants a double keeps (0.01, 2.5) and some it does not (Long.MAX_VALUE, a 19-digit divisor). */
const NUMBERS_SCHEMA = `{
  "$schema": "${IGLU_META_SCHEMA_URI}",
  "self": { "vendor": "com.acme", "name": "numbers", "format": "jsonschema", "version": "1-0-0" },
  "type": "object",
  "properties": {
    "i": { "type": "integer", "minimum": -10, "maximum": 1000000000000000 },
    "n": { "type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1e21 },
    "p": { "type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 9999999 },
    "q": { "multipleOf": 2.5 },
    "r": { "multipleOf": 1e-7 },
    "t": { "type": "integer", "multipleOf": 3 },
    "big": { "type": "integer", "minimum": -9223372036854775808, "maximum": ${LONG_MAX} },
    "x": { "type": "number", "maximum": 0.1, "exclusiveMaximum": true },
    "d": { "multipleOf": 0.1000000000000000055 },
    "u": { "type": ["integer", "null"] },
    "w": { "type": ["integer", "number"] },
    "a": { "type": "array", "items": { "type": "integer", "maximum": 100 } }
  }
}`;

let dir: string;
let validator: IgluValidator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-session-fast-path-'));
  await mkdir(join(dir, 'com.acme', 'numbers', 'jsonschema'), { recursive: true });
  await writeFile(join(dir, 'com.acme', 'numbers', 'jsonschema', '1-0-0'), NUMBERS_SCHEMA);
  validator = new IgluValidator({ repositories: [dir] });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const thing = (data: string) => `{"schema":"${THING}","data":${data}}`;

describe('numbers judged as Snowplow judges them, on the fast path and the exact path alike', () => {
  it.each([
    [`{"big":${LONG_MAX}}`, true],
    ['{"big":9223372036854775808}', false], // one above Long.MAX_VALUE; both are 2^63 as doubles
    ['{"big":9223372036854776000}', false], // what JS prints for 2^63: still above the bound as written
    ['{"big":-9223372036854775809}', false],
    ['{"x":0.1}', false],
    ['{"x":0.09999999999999999999}', true], // below 0.1 as a decimal, 0.1 as a double
    ['{"n":0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001}', true], // 0 as a double
    ['{"w":1.0}', true], // integer or number: a decimal is a number
    ['{"p":19.99}', true],
    ['{"p":19.990000000000000001}', false], // 19.99 as a double
    ['{"p":1999e-2}', true],
    ['{"d":0.1000000000000000055}', true], // the divisor as written, not its double
    ['{"d":0.1}', false],
    ['{"a":[1,2.0,100]}', false],
    ['{"a":[1,2,100]}', true],
  ])('%s is %s', async (data, valid) => {
    const text = thing(data);
    expect(validator.validateJson(text).valid).toBe(valid);
    expect(validator.validate(parseJsonExact(text)).valid).toBe(valid);
  });

  it('a bound is printed as the schema writes it', () => {
    expect(validator.validateJson(thing('{"big":9223372036854775808}')).errors).toEqual([
      expect.objectContaining({ path: '/data/big', keyword: 'maximum', message: expect.stringMatching(/^must be <= 9223372036854775807, found /) }),
    ]);
  });

  it('through the validate command', async () => {
    const lines = ['{"big":9223372036854775808}', '{"x":0.09999999999999999999}', '{"w":1.0}', '{"p":19.990000000000000001}'].map(thing);
    const run = await runCli('validate', ['--schemas', dir, '--json', '-'], { stdin: `${lines.join('\n')}\n` });
    const report = JSON.parse(run.stdout) as { results: Array<{ valid: boolean }> };
    expect(report.results.map((r) => r.valid)).toEqual([false, true, true, false]);
  });

  it('through the collector: entities in cx are judged on their text', async () => {
    const collector = await startCollector({ port: 0, schemas: [dir] });
    try {
      const contexts = (entity: string) => Buffer.from(`{"schema":"${CONTEXTS_SCHEMA}","data":[${entity}]}`).toString('base64url');
      const session = (index: string) => `{"schema":"${CLIENT_SESSION_SCHEMA}","data":{"userId":"c1ba47c1-241a-497f-8d69-3eddde4d3d02","sessionId":"192b85ea-81f2-42e2-908c-0fc34861c93f","sessionIndex":${index},"storageMechanism":"SQLITE"}}`;
      const payloads = ['1', '1.0', '1e400', '2147483648'].map((index, i) => ({ e: 'pv', tv: 'node-4.8.0', p: 'srv', eid: `6e7d2a8f-3c1b-4c55-9d0e-0f2b9a6c1d1${i}`, cx: contexts(session(index)) }));
      payloads.push({ e: 'pv', tv: 'node-4.8.0', p: 'srv', eid: '6e7d2a8f-3c1b-4c55-9d0e-0f2b9a6c1d19', cx: contexts(thing('{"big":9223372036854775808}')) });
      const response = await fetch(`${collector.url}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', body: JSON.stringify({ schema: PAYLOAD_DATA_SCHEMA, data: payloads }), headers: { 'Content-Type': 'application/json' } });
      expect(response.status).toBe(200);
      expect(await micro(collector.url).all()).toEqual({ total: 5, good: 1, bad: 4 });
    } finally {
      await collector.close();
    }
  });
});

/** JSON number tokens of every kind: short and long, exact and not, integral and not, huge exponents. */
const numberToken: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.constantFrom('9007199254740992', '9007199254740993', LONG_MAX, '9223372036854775808', '9223372036854776000', '-9223372036854775809', '1000000000000000', '-0', '-0.0', '0.1', '0.09999999999999999999', '100', '99.999999999999999999'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.integer({ min: 0, max: 10_000_000 }).map((cents) => String(cents / 100)),
  fc.tuple(fc.integer({ min: -999, max: 99_999 }), fc.stringMatching(/^\d{1,22}$/)).map(([whole, fraction]) => `${whole}.${fraction}`),
  fc.tuple(fc.integer({ min: 0, max: 999 }), fc.nat(6)).map(([whole, zeros]) => `${whole}.${'0'.repeat(zeros + 1)}`),
  fc.tuple(fc.stringMatching(/^-?(0|[1-9]\d{0,2})(\.\d{1,3})?$/), fc.constantFrom('e', 'E', 'e+', 'e-', 'E-'), fc.integer({ min: 0, max: 420 })).map(([mantissa, e, exp]) => `${mantissa}${e}${exp}`),
);

const space = fc.constantFrom('', '', ' ', '\n\t ');

/** What a schema says of a number: Snowplow's verdict is reckoned from these with BigInt decimals (no Ajv). */
interface Rule {
  integer?: true;
  minimum?: string;
  maximum?: string;
  exclusiveMinimum?: true;
  exclusiveMaximum?: true;
  multipleOf?: string;
}
const THING_RULES: Record<string, Rule> = {
  i: { integer: true, minimum: '-10', maximum: '1000000000000000' },
  n: { minimum: '0', exclusiveMinimum: true, maximum: '1e21' },
  p: { multipleOf: '0.01', minimum: '0', maximum: '9999999' },
  q: { multipleOf: '2.5' },
  r: { multipleOf: '1e-7' },
  t: { integer: true, multipleOf: '3' },
  big: { integer: true, minimum: '-9223372036854775808', maximum: LONG_MAX },
  x: { maximum: '0.1', exclusiveMaximum: true },
  d: { multipleOf: '0.1000000000000000055' },
  u: { integer: true },
  w: {},
};
const ITEM_RULE: Rule = { integer: true, maximum: '100' };
const PRICE: Rule = { multipleOf: '0.01', minimum: '0', maximum: '9999999' };
const COUNT: Rule = { integer: true, minimum: '0', maximum: '9999999' };
const INDEX: Rule = { integer: true, minimum: '0', maximum: '2147483647' };

function decimal(text: string): { digits: bigint; exponent: number } {
  const [, sign, whole, fraction = '', exp = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)!;
  return { digits: BigInt(`${sign}${whole}${fraction}`), exponent: Number(exp) - fraction.length };
}
/** Both decimals as integers of one scale. */
function scaled(a: string, b: string): [bigint, bigint] {
  const x = decimal(a);
  const y = decimal(b);
  const e = Math.min(x.exponent, y.exponent);
  return [x.digits * 10n ** BigInt(x.exponent - e), y.digits * 10n ** BigInt(y.exponent - e)];
}
const compare = (a: string, b: string) => {
  const [x, y] = scaled(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The issues (`path keyword`) Snowplow's validator finds for one number token under a rule. */
function expectedIssues(path: string, token: string, rule: Rule): string[] {
  const issues: string[] = [];
  if (rule.integer && !/^-?\d+$/.test(token)) issues.push(`${path} type`);
  if (rule.minimum !== undefined && compare(token, rule.minimum) < (rule.exclusiveMinimum ? 1 : 0)) issues.push(`${path} minimum`);
  if (rule.maximum !== undefined && compare(token, rule.maximum) > (rule.exclusiveMaximum ? -1 : 0)) issues.push(`${path} maximum`);
  if (rule.multipleOf !== undefined) {
    const [x, y] = scaled(token, rule.multipleOf);
    if (x % y !== 0n) issues.push(`${path} multipleOf`);
  }
  return issues;
}

/** A generated instance's JSON text and the issues Snowplow's validator finds in it. */
interface Case {
  text: string;
  issues: string[];
}

/** Text that looks like number tokens inside a string: must never change a verdict. */
const decoy = fc.oneof(fc.constant(''), fc.constantFrom('a:1.0,b', 'x,[2.50]', '12:30:00.000Z', 'ratio:1e400}'), numberToken.map((t) => `k:${t},`));

const thingCase: fc.Arbitrary<Case> = fc
  .record({
    numbers: fc.uniqueArray(fc.tuple(fc.constantFrom(...Object.keys(THING_RULES)), numberToken, space, space), { selector: ([key]) => key, maxLength: 4 }),
    items: fc.option(fc.array(numberToken, { maxLength: 3 })),
    note: decoy,
  })
  .map(({ numbers, items, note }) => {
    const members = numbers.map(([key, token, before, after]) => `"${key}":${before}${token}${after}`);
    const issues = numbers.flatMap(([key, token]) => expectedIssues(`/data/${key}`, token, THING_RULES[key]!));
    if (items !== null) {
      members.push(`"a":[${items.join(', ')}]`);
      items.forEach((token, i) => issues.push(...expectedIssues(`/data/a/${i}`, token, ITEM_RULE)));
    }
    members.push(`"note":${JSON.stringify(note)}`);
    return { text: `{"schema":"${THING}","data":{${members.join(',')}}}`, issues };
  });

const productCase: fc.Arbitrary<Case> = fc.tuple(numberToken, numberToken, numberToken).map(([price, quantity, position]) => ({
  text: `{"schema":"${PRODUCT}","data":{"id":"sku-1","category":"shoes","currency":"EUR","price":${price},"quantity":${quantity},"position":${position}}}`,
  issues: [...expectedIssues('/data/price', price, PRICE), ...expectedIssues('/data/quantity', quantity, COUNT), ...expectedIssues('/data/position', position, COUNT)],
}));

const sessionCase: fc.Arbitrary<Case> = fc.tuple(numberToken, numberToken).map(([index, eventIndex]) => ({
  text: `{"schema":"${CLIENT_SESSION_SCHEMA}","data":{"userId":"c1ba47c1-241a-497f-8d69-3eddde4d3d02","sessionId":"192b85ea-81f2-42e2-908c-0fc34861c93f","sessionIndex":${index},"eventIndex":${eventIndex},"storageMechanism":"SQLITE"}}`,
  issues: [...expectedIssues('/data/sessionIndex', index, INDEX), ...expectedIssues('/data/eventIndex', eventIndex, INDEX)],
}));

const entityCase = fc.oneof(thingCase, productCase, sessionCase);
const contextsCase: fc.Arbitrary<Case> = fc.array(entityCase, { minLength: 1, maxLength: 3 }).map((entities) => ({
  text: `{"schema":"${CONTEXTS_SCHEMA}","data":[${entities.map((e) => e.text).join(',')}]}`,
  issues: entities.flatMap((e, i) => e.issues.map((issue) => `/data/${i}${issue}`)),
}));
const payloadCase: fc.Arbitrary<Case> = fc.tuple(contextsCase, fc.boolean()).map(([contexts, base64]) => ({
  text: JSON.stringify({ e: 'pv', tv: 'node-4.8.0', p: 'srv', ...(base64 ? { cx: Buffer.from(contexts.text).toString('base64url') } : { co: contexts.text }) }),
  issues: contexts.issues.map((issue) => `/${base64 ? 'cx' : 'co'}${issue}`),
}));

const issuesOf = (report: { errors: Array<{ path: string; keyword: string }> }) => report.errors.map((e) => `${e.path} ${e.keyword}`).sort();

describe('properties: the fast path and the exact path give Snowplow\'s verdicts (fast-check)', () => {
  it('on generated self-describing JSON, contexts and payloads (co and cx) with numbers of every kind', () => {
    fc.assert(
      fc.property(fc.oneof(entityCase, contextsCase, payloadCase), ({ text, issues }) => {
        const expected = [...issues].sort();
        expect(issuesOf(validator.validateJson(text))).toEqual(expected); // the fast path
        expect(issuesOf(validator.validate(parseJsonExact(text)))).toEqual(expected); // the exact path
      }),
      { numRuns: 3000 },
    );
  });

  it('the text scan misses no inexact number token, and only text inside strings raises a false alarm', () => {
    const tokens = (text: string) => {
      const found: string[] = [];
      parseLossless(text, undefined, (token) => found.push(token));
      return found;
    };
    fc.assert(
      fc.property(fc.oneof(entityCase, contextsCase), ({ text }) => {
        const inexact = tokens(text).some(isInexactToken);
        if (inexact) expect(holdsInexactNumber(text)).toBe(true);
        else if (holdsInexactNumber(text)) expect(text).toMatch(/"[^"]*[:,[][^"]*"/); // a string holding a separator
      }),
      { numRuns: 3000 },
    );
  });
});
