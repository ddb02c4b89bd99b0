/**
 * The validator benchmark's baseline: the least a validator can do per NDJSON line. Reads the file in
 * 1 MiB chunks, splits lines, `JSON.parse`, then the compiled Ajv function of the line's schema (through
 * the Iglu module, compiled once). Prints how many lines were valid.
 */
import { createReadStream } from 'node:fs';
import { IgluValidator } from '../../plugin/iglu/index.js';

const file = process.argv[2]!;
const validator = new IgluValidator();
let valid = 0;
let rest = '';
const stream = createReadStream(file, { highWaterMark: 1024 * 1024, encoding: 'utf8' });
for await (const chunk of stream as AsyncIterable<string>) {
  const text = rest + chunk;
  let start = 0;
  let end: number;
  while ((end = text.indexOf('\n', start)) !== -1) {
    const instance = JSON.parse(text.slice(start, end)) as { schema: string; data: unknown };
    const compiled = validator.compile(instance.schema);
    if (compiled.ok && compiled.validate(instance.data)) valid++;
    start = end + 1;
  }
  rest = text.slice(start);
}
process.stdout.write(`${valid}\n`);
