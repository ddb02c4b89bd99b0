/**
 * The validator benchmark's baseline: the least a validator can do per NDJSON line. Reads the file in
 * 1 MiB chunks, splits lines, `JSON.parse`, then the Ajv draft-04 function of the line's schema, compiled
 * once per schema with the project's Ajv options and formats but Ajv's own arithmetic on doubles (plain
 * Ajv: 19.99 is not a multiple of 0.01 to it). Prints how many lines it found valid.
 */
import { createReadStream } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { createIgluAjv, forSnowplow } from '../../plugin/iglu/ajv.js';
import { IgluResolver } from '../../plugin/iglu/resolver.js';

const file = process.argv[2]!;
const resolver = new IgluResolver();
const ajv = createIgluAjv('plain');
const compiled = new Map<string, ValidateFunction>();

function compile(uri: string): ValidateFunction {
  const resolution = resolver.resolve(uri);
  if (!resolution.ok) throw new Error(resolution.reason);
  const validate = ajv.compile(forSnowplow(resolution.schema.schema) as object);
  compiled.set(uri, validate);
  return validate;
}

let valid = 0;
let rest = '';
const stream = createReadStream(file, { highWaterMark: 1024 * 1024, encoding: 'utf8' });
for await (const chunk of stream as AsyncIterable<string>) {
  const text = rest + chunk;
  let start = 0;
  let end: number;
  while ((end = text.indexOf('\n', start)) !== -1) {
    const instance = JSON.parse(text.slice(start, end)) as { schema: string; data: unknown };
    const validate = compiled.get(instance.schema) ?? compile(instance.schema);
    if (validate(instance.data)) valid++;
    start = end + 1;
  }
  rest = text.slice(start);
}
process.stdout.write(`${valid}\n`);
