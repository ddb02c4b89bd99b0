// Schema evolution rules, transcribed case by case from their sources: schema-ddl 0.27.0
// (modules/core/src/test/scala/.../parquet/MigrationSpec.scala, .../redshift/ShredModelSpec.scala "model
// migrations") and igluctl 0.13.0 (src/test/scala/.../commands/VerifyParquetSpec.scala). Each test names
// the case it transcribes.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseJsonExact } from '../plugin/iglu/exact-json.js';
import { decodeSchema } from '../plugin/iglu/evolution/ddl-schema.js';
import { buildField, field, normalizeField, type ParquetField, type ParquetType } from '../plugin/iglu/evolution/parquet.js';
import { assessParquetMigration, describeParquetMigration, isBreaking, mergeParquetFields } from '../plugin/iglu/evolution/parquet-migrations.js';
import { redshiftColumns, showColumnType, sqlType, type Column } from '../plugin/iglu/evolution/redshift.js';
import { describeRedshiftChange, isRedshiftBreaking, mergeRedshiftColumns } from '../plugin/iglu/evolution/redshift-migrations.js';
import { verifyRepository } from '../plugin/iglu/index.js';
import { IGLU_META_SCHEMA_URI } from '../plugin/schema-uris.js';
import { withTempDir } from './helpers/capture.js';

const ddl = (text: string) => decodeSchema(parseJsonExact(text));
const build = (text: string, enforceValuePresence = false) => buildField('top', ddl(text), enforceValuePresence)!;
const normalized = (text: string, enforceValuePresence = false) => normalizeField(build(text, enforceValuePresence));
const assessed = (a: ParquetField, b: ParquetField) => new Set(assessParquetMigration(a, b).map(describeParquetMigration));
const merged = (a: ParquetField, b: ParquetField) => {
  const result = mergeParquetFields(a, b);
  return result.ok ? { right: result.field } : { left: result.breaking.map(describeParquetMigration) };
};
const S = (kind: 'String' | 'Long' | 'Boolean'): ParquetType => ({ kind });
const struct = (...fields: ParquetField[]): ParquetType => ({ kind: 'Struct', fields });

const LEAN_BASE = `{"type": "object", "properties": {
  "stringKey": {"type": "string", "maxLength": 500},
  "objectKey": {"type": "object", "properties": {
    "nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]}, "nestedKey3": {"type": "boolean"}}}}}`;
const leanBase = normalized(LEAN_BASE);
const ARRAY_OF = (items: string) => `{"type": "object", "properties": {"arrayKey": {"type": "array", "items": ${items}}}}`;

describe('schema-ddl parquet/MigrationSpec.scala', () => {
  it('e1 "Produce no migration for the same schemas"', () => {
    expect(merged(leanBase, leanBase)).toEqual({ right: leanBase });
    expect(assessed(leanBase, leanBase)).toEqual(new Set());
  });

  it('e2 "Produce migration for new nested fields"', () => {
    const schema2 = normalized(`{"type": "object", "properties": {
      "stringKey": {"type": "string", "maxLength": 500},
      "objectKey": {"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]},
        "nestedKey3": {"type": "boolean"}, "string2Key": {"type": "string", "maxLength": 500}}}}}`);
    expect(merged(leanBase, schema2)).toEqual({ right: schema2 });
    expect(assessed(leanBase, schema2)).toEqual(new Set(['Schema key addition at /object_key/string2_key']));
  });

  it('e3 "Error for type casting in nested fields"', () => {
    const schema2 = normalized(`{"type": "object", "properties": {
      "stringKey": {"type": "string", "maxLength": 500},
      "objectKey": {"type": "object", "properties": {"nestedKey1": {"type": "integer"}, "nestedKey2": {"type": ["integer", "null"]}, "nestedKey3": {"type": "boolean"}}}}}`);
    expect(merged(leanBase, schema2)).toEqual({ left: ['Incompatible type change String to Long at /object_key/nested_key1'] });
    expect(assessed(leanBase, schema2)).toEqual(new Set(['Incompatible type change String to Long at /object_key/nested_key1']));
  });

  it('e4 "Produce migration for removal of nested fields"', () => {
    const schema2 = normalized(`{"type": "object", "properties": {
      "stringKey": {"type": "string", "maxLength": 500},
      "objectKey": {"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]}}}}}`);
    expect(merged(leanBase, schema2)).toEqual({ right: leanBase });
    expect(assessed(leanBase, schema2)).toEqual(new Set(['Key removal at /object_key/nested_key3']));
  });

  it('e5 "Produce migration for new top-level fields"', () => {
    const schema2 = normalized(`{"type": "object", "properties": {
      "stringKey": {"type": "string", "maxLength": 500}, "stringKey2": {"type": "string", "maxLength": 500},
      "objectKey": {"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]}, "nestedKey3": {"type": "boolean"}}}}}`);
    expect(merged(leanBase, schema2)).toEqual({ right: schema2 });
    expect(assessed(leanBase, schema2)).toEqual(new Set(['Schema key addition at /string_key2']));
  });

  it('e6 "Error for type casting in top-level fields"', () => {
    const schema2 = normalized(`{"type": "object", "properties": {
      "stringKey": {"type": "integer"},
      "objectKey": {"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]}, "nestedKey3": {"type": "boolean"}}}}}`);
    expect(merged(leanBase, schema2)).toEqual({ left: ['Incompatible type change String to Long at /string_key'] });
    expect(assessed(leanBase, schema2)).toEqual(new Set(['Incompatible type change String to Long at /string_key']));
  });

  it('e7 "Produce migration for removal of top-level fields"', () => {
    const schema2 = normalized(`{"type": "object", "properties": {
      "objectKey": {"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]}, "nestedKey3": {"type": "boolean"}}}}}`);
    expect(merged(leanBase, schema2)).toEqual({ right: leanBase });
    expect(assessed(leanBase, schema2)).toEqual(new Set(['Key removal at /string_key']));
  });

  it('e8 "Error with invalid type change in arrays AND nullable change"', () => {
    const schema1 = build(ARRAY_OF('{"type": ["integer", "null"]}'));
    const schema2 = build(ARRAY_OF('{"type": ["string"]}'));
    expect(merged(schema1, schema2)).toEqual({ left: ['Incompatible type change Long to String at /arrayKey/[arrayDown]'] });
    expect(assessed(schema1, schema2)).toEqual(
      new Set(['Changing nullable property to required at /arrayKey/[arrayDown]', 'Incompatible type change Long to String at /arrayKey/[arrayDown]']),
    );
  });

  const items12 = '{"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]}}}';
  const items123 = '{"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]}, "nestedKey3": {"type": "boolean"}}}';

  it('e9 "Produce migration for adding fields in structs in arrays"', () => {
    const [schema1, schema2] = [normalized(ARRAY_OF(items12)), normalized(ARRAY_OF(items123))];
    expect(merged(schema1, schema2)).toEqual({ right: schema2 });
    expect(assessed(schema1, schema2)).toEqual(new Set(['Schema key addition at /array_key/[arrayDown]/nested_key3']));
  });

  it('e10 "Produce migration for removal fields in structs in arrays"', () => {
    const [schema1, schema2] = [normalized(ARRAY_OF(items12)), normalized(ARRAY_OF(items123))];
    expect(merged(schema2, schema1)).toEqual({ right: schema2 });
    expect(assessed(schema2, schema1)).toEqual(new Set(['Key removal at /array_key/[arrayDown]/nested_key3']));
  });

  it('e11 "Error for type casting in nested arrays"', () => {
    const schema1 = build(ARRAY_OF(items12));
    const schema2 = build(ARRAY_OF('{"type": "object", "properties": {"nestedKey1": {"type": "integer"}, "nestedKey2": {"type": ["integer", "null"]}}}'));
    expect(merged(schema1, schema2)).toEqual({ left: ['Incompatible type change String to Long at /arrayKey/[arrayDown]/nestedKey1'] });
    expect(assessed(schema1, schema2)).toEqual(new Set(['Incompatible type change String to Long at /arrayKey/[arrayDown]/nestedKey1']));
  });

  it('e12 "Produce migration for nullables arrays"', () => {
    const schema1 = normalized(ARRAY_OF('{"type": "object", "properties": {"nestedKey1": {"type": "integer"}, "nestedKey2": {"type": "integer"}}}'));
    const schema2 = normalized(ARRAY_OF('{"type": "object", "properties": {"nestedKey1": {"type": "integer"}, "nestedKey2": {"type": "integer"}}, "required": ["nestedKey2"]}'));
    expect(merged(schema1, schema2)).toEqual({ right: schema1 });
    expect(assessed(schema1, schema2)).toEqual(new Set(['Changing nullable property to required at /array_key/[arrayDown]/nested_key2']));
  });

  it('e13 "Suggest version change correctly"', () => {
    expect(isBreaking({ kind: 'IncompatibleType', path: ['/'], oldType: S('Boolean'), newType: { kind: 'Double' } })).toBe(true);
    expect(isBreaking({ kind: 'KeyAddition', path: [], added: S('Boolean') })).toBe(false);
  });

  it('e14 "Collapse field name collisions"', () => {
    const schema1 = normalized('{"type": "object", "properties": {"collidingKey": {"type": "string"}}}');
    const schema2 = normalized('{"type": "object", "properties": {"colliding_key": {"type": "string"}}}');
    const result = merged(schema1, schema2);
    expect((result.right?.type as { fields: ParquetField[] }).fields[0]!.accessors).toEqual(new Set(['colliding_key', 'collidingKey']));
  });

  it('e15 "Drop not null constraint when field is removed in next generation"', () => {
    const schema1 = normalized('{"type": "object", "properties": {"k1": {"type": "string"}}, "required": ["k1"]}');
    const schema2 = normalized('{"type": "object", "properties": {"k2": {"type": "string"}}}');
    const fields = (merged(schema1, schema2).right!.type as { fields: ParquetField[] }).fields;
    expect(fields.at(-1)!.nullable).toBe(true);
  });

  it('e16 "Drop not null constraint when field is added in next generation"', () => {
    const schema1 = normalized('{"type": "object", "properties": {"k1": {"type": "string"}}}');
    const schema2 = normalized('{"type": "object", "properties": {"k2": {"type": "string"}}, "required": ["k2"]}');
    const fields = (merged(schema1, schema2).right!.type as { fields: ParquetField[] }).fields;
    expect(fields.every((f) => f.nullable)).toBe(true);
  });

  it('e17 "Preserve ordering of fields in a struct"', () => {
    const nullable = (name: string) => field(name, S('String'), true);
    const required = (name: string) => field(name, S('String'), false);
    const field1 = field('top', struct(nullable('vvv'), nullable('xxx'), nullable('zzz')), false);
    const field2 = field('top', struct(...['vvv', 'www', 'xxx', 'yyy', 'zzz'].map(required)), false);
    const expected = field('top', struct(...['vvv', 'xxx', 'zzz', 'www', 'yyy'].map(nullable)), false);
    expect(merged(field1, field2)).toEqual({ right: expected });
  });

  it('e18 "Preserve ordering in nested arrays and structs"', () => {
    const schema1 = normalized(
      `{"type": "object", "properties": {
        "arrayKey": {"type": "array", "items": {"type": "object", "properties": {"nestedKey1": {"type": "integer"}, "nestedKey2": {"type": "integer"}}, "required": ["nestedKey2"]}},
        "objectKey": {"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey2": {"type": ["integer", "null"]}, "nestedKey3": {"type": "boolean"}, "string2Key": {"type": "string", "maxLength": 500}}}}}`,
      true,
    );
    const schema2 = normalized(
      `{"type": "object", "properties": {
        "arrayKey": {"type": "array", "items": {"type": "object", "properties": {"nestedKey1": {"type": "integer"}, "nestedKey0": {"type": "integer"}, "nestedKey2": {"type": "integer"}}, "required": ["nestedKey2"]}},
        "objectKey": {"type": "object", "properties": {"nestedKey1": {"type": "string"}, "nestedKey0": {"type": "integer"}, "nestedKey2": {"type": ["integer", "null"]}, "nestedKey3": {"type": "boolean"}, "string2Key": {"type": "string", "maxLength": 500}}}}}`,
      true,
    );
    const arrayStruct = struct(field('nested_key1', S('Long'), true, ['nestedKey1']), field('nested_key2', S('Long'), false, ['nestedKey2']), field('nested_key0', S('Long'), true, ['nestedKey0']));
    const objectStruct = struct(
      field('nested_key1', S('String'), true, ['nestedKey1']),
      field('nested_key2', S('Long'), true, ['nestedKey2']),
      field('nested_key3', S('Boolean'), true, ['nestedKey3']),
      field('string2_key', S('String'), true, ['string2Key']),
      field('nested_key0', S('Long'), true, ['nestedKey0']),
    );
    const expected = field(
      'top',
      struct(field('array_key', { kind: 'Array', element: arrayStruct, nullable: false }, true, ['arrayKey']), field('object_key', objectStruct, true, ['objectKey'])),
      false,
    );
    expect(merged(schema1, schema2)).toEqual({ right: expected });
    expect(assessed(schema1, schema2)).toEqual(new Set(['Schema key addition at /array_key/[arrayDown]/nested_key0', 'Schema key addition at /object_key/nested_key0']));
  });
});

// ShredModelSpec compares the CREATE TABLE / ALTER TABLE text of the merged model; here the same facts are
// checked on the columns: names, SQL types, nullability, and the migrations the ALTER statements express.
const columns = (text: string) => redshiftColumns(ddl(text));
const FOO = (foo: string) => `{"type": "object", "properties": {"foo": ${foo}}}`;
const table = (cs: Column[] | null) => cs?.map((c) => `${c.name} ${sqlType(c.type)}${c.nullable ? '' : ' NOT NULL'}`);
const redshiftMerge = (...texts: string[]) => {
  let state = columns(texts[0]!);
  const steps = texts.slice(1).map((text) => {
    const result = mergeRedshiftColumns(state, columns(text));
    if (result.columns !== null) state = result.columns; // foldMapMergeRedshiftSchemas: a broken one is skipped
    return { good: result.columns !== null, errors: result.changes.filter(isRedshiftBreaking).map(describeRedshiftChange), changes: result.changes };
  });
  return { table: table(state), steps };
};

describe('schema-ddl redshift/ShredModelSpec.scala "model migrations"', () => {
  it.each([
    ['should merge with no type change (date-time)', '{"type": "string", "format": "date-time"}', 'TIMESTAMP'],
    ['should merge with no type change (date)', '{"type": "string", "format": "date"}', 'DATE'],
    ['should merge with no type change (boolean)', '{"type": "boolean"}', 'BOOLEAN'],
  ])('"%s"', (_name, foo, sql) => {
    const result = redshiftMerge(FOO(foo), FOO(foo));
    expect(result).toEqual({ table: [`foo ${sql}`], steps: [{ good: true, errors: [], changes: [] }] });
  });

  it('"should merge with no type change (char to smaller size)"', () => {
    const result = redshiftMerge(FOO('{"type": "string", "minLength": "12", "maxLength": "12"}'), FOO('{"type": "string", "minLength": "10", "maxLength": "10"}'));
    expect(result.steps[0]!.good).toBe(true);
    expect(result.table).toEqual(['foo CHAR(12)']);
  });

  it('"should not merge with no type change (char to larger size)"', () => {
    const result = redshiftMerge(FOO('{"type": "string", "minLength": "12", "maxLength": "12"}'), FOO('{"type": "string", "minLength": "15", "maxLength": "15"}'));
    expect(result.steps[0]).toMatchObject({ good: false, errors: ['Incompatible types in column foo old RedshiftChar(12) new RedshiftChar(15)'] });
  });

  it('"should merge with varchar widening": ALTER COLUMN "foo" TYPE VARCHAR(30)', () => {
    const result = redshiftMerge(FOO('{"type": "string", "maxLength": 20}'), FOO('{"type": "string", "maxLength": 30}'));
    expect(result.table).toEqual(['foo VARCHAR(30)']);
    expect(result.steps[0]!.changes.map((c) => c.kind)).toEqual(['VarcharExtension']);
  });

  it('"should detect int to str conversion errors"', () => {
    const integer = columns('{"type": "object", "properties": {"stringKey": {"type": "integer"}}}');
    const string = columns('{"type": "object", "properties": {"stringKey": {"type": "string"}}}');
    expect(mergeRedshiftColumns(integer, string).changes.some(isRedshiftBreaking)).toBe(true);
  });

  it('"should make a recovery model when incompatible encodings are merged"', () => {
    const result = redshiftMerge(FOO('{"type": "string", "maxLength": 20}'), FOO('{"type": "number"}'));
    expect(result.steps[0]).toMatchObject({ good: false, errors: ['Incompatible types in column foo old RedshiftVarchar(20) new RedshiftDouble'] });
    expect(showColumnType(columns(FOO('{"type": "number"}'))[0]!.type)).toBe('RedshiftDouble');
  });

  it('"should make a recovery model when not null field is removed"', () => {
    const result = redshiftMerge(
      '{"type": "object", "properties": {"foo": {"type": "string", "maxLength": 20}}, "required": ["foo"]}',
      '{"type": "object", "properties": {"foo1": {"type": "number"}}}',
    );
    expect(result.steps[0]).toMatchObject({ good: false, errors: ['Making required column nullable foo'] });
  });

  it('"should make a ignore varchar narrowing"', () => {
    const result = redshiftMerge(FOO('{"type": "string", "maxLength": 20}'), FOO('{"type": "string", "maxLength": 10}'));
    expect(result.table).toEqual(['foo VARCHAR(20)']);
    expect(result.steps[0]).toMatchObject({ good: true, errors: [] });
    expect(result.steps[0]!.changes.map((c) => c.kind)).toEqual(['NoChanges']); // no ALTER statement
  });

  it('"should merge multiple schemas": ALTER COLUMN "foo" TYPE VARCHAR(30), ADD COLUMN "bar" VARCHAR(10)', () => {
    const result = redshiftMerge(FOO('{"type": "string", "maxLength": 20}'), '{"type": "object", "properties": {"bar": {"type": "string", "maxLength": 10}}}', FOO('{"type": "string", "maxLength": 30}'));
    expect(result.table).toEqual(['foo VARCHAR(30)', 'bar VARCHAR(10)']);
    expect(result.steps.map((s) => s.changes.filter((c) => c.kind !== 'NoChanges').map((c) => c.kind))).toEqual([['ColumnAddition'], ['VarcharExtension']]);
  });

  it('"should merge multiple schemas when only adding columns"', () => {
    const result = redshiftMerge(FOO('{"type": "string", "maxLength": 20}'), '{"type": "object", "properties": {"zoo": {"type": "number"}}}', '{"type": "object", "properties": {"foo1": {"type": "string", "maxLength": 30}}}');
    expect(result.table).toEqual(['foo VARCHAR(20)', 'zoo DOUBLE PRECISION', 'foo1 VARCHAR(30)']);
  });

  it('"should merge multiple schemas skipping broken one in the middle" and "... it should get a recovery model"', () => {
    const result = redshiftMerge(FOO('{"type": "string", "maxLength": 20}'), FOO('{"type": "number"}'), FOO('{"type": "string", "maxLength": 30}'));
    expect(result.table).toEqual(['foo VARCHAR(30)']);
    expect(result.steps.map((s) => [s.good, s.errors])).toEqual([
      [false, ['Incompatible types in column foo old RedshiftVarchar(20) new RedshiftDouble']],
      [true, []],
    ]);
  });

  it('ShredModelSpec "render shred table, ordering column by nullability": the model\'s columns', () => {
    const dummy = columns(`{"type": "object", "properties": {
      "foo": {"type": "string", "maxLength": 20}, "bar": {"type": "integer", "maximum": 4000},
      "a_field": {"type": "object", "properties": {"b_field": {"type": "string"}, "c_field": {"type": "object", "properties": {"d_field": {"type": "string"}, "e_field": {"type": "string"}}}, "d_field": {"type": "string"}}, "required": ["d_field"]},
      "b_field": {"type": "integer"}, "c_field": {"type": "integer"},
      "d_field": {"type": "object", "properties": {"e_field": {"type": "string"}, "f_field": {"type": "string"}}},
      "e_field": {"type": "object", "properties": {"f_field": {"type": "string"}, "g_field": {"type": "string"}}, "required": ["g_field"]},
      "f_field": {"type": "string"}, "g_field": {"type": "string"}}, "required": ["a_field", "e_field"]}`);
    expect(table(dummy)).toEqual([
      'a_field.d_field VARCHAR(4096) NOT NULL',
      'e_field.g_field VARCHAR(4096) NOT NULL',
      'a_field.b_field VARCHAR(4096)',
      'a_field.c_field.d_field VARCHAR(4096)',
      'a_field.c_field.e_field VARCHAR(4096)',
      'b_field BIGINT',
      'bar SMALLINT',
      'c_field BIGINT',
      'd_field.e_field VARCHAR(4096)',
      'd_field.f_field VARCHAR(4096)',
      'e_field.f_field VARCHAR(4096)',
      'f_field VARCHAR(4096)',
      'foo VARCHAR(20)',
      'g_field VARCHAR(4096)',
    ]);
  });
});

// igluctl VerifyParquetSpec.scala, on its own test resources (verify-parquet/breaking, non-breaking).
const igluctlSchema = (version: string, properties: Record<string, unknown>) => ({
  $schema: IGLU_META_SCHEMA_URI,
  description: 'Test schema',
  self: { vendor: 'com.test', name: 'test', format: 'jsonschema', version },
  type: 'object',
  properties,
  additionalProperties: false,
});

async function repository(dir: string, files: Record<string, unknown>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), JSON.stringify(content, null, 2));
  }
  return dir;
}

export const VERIFY_PARQUET_BREAKING = {
  'com.test/test/jsonschema/1-0-0': igluctlSchema('1-0-0', { id: { type: 'string' } }),
  'com.test/test/jsonschema/1-0-1': igluctlSchema('1-0-1', { id: { type: 'number' } }),
};
export const VERIFY_PARQUET_NON_BREAKING = {
  'com.test/test/jsonschema/1-0-0': igluctlSchema('1-0-0', { id: { type: 'string' } }),
  'com.test/test/jsonschema/1-0-1': igluctlSchema('1-0-1', { id: { type: 'string' }, name: { type: 'string' } }),
};

describe('igluctl commands/VerifyParquetSpec.scala', () => {
  it('"return message about breaking changes": 1-0-1, Incompatible type change String to Double at /id', () =>
    withTempDir(async (dir) => {
      const report = await verifyRepository(await repository(dir, VERIFY_PARQUET_BREAKING));
      expect(report.changes.filter((c) => c.breaking).map((c) => [c.schema, c.description])).toEqual([
        ['iglu:com.test/test/jsonschema/1-0-1', 'Incompatible type change String to Double at /id'],
      ]);
      expect(report.breaking).toBe(1);
    }));

  it('"return message no breaking changes detected"', () =>
    withTempDir(async (dir) => {
      const report = await verifyRepository(await repository(dir, VERIFY_PARQUET_NON_BREAKING));
      expect(report.breaking).toBe(0);
      expect(report.changes.map((c) => [c.path, c.kind, c.breaking])).toEqual([['/name', 'KeyAddition', false]]);
    }));
});

describe('bounds written with huge exponents', () => {
  // A number's text is read exactly, as schema-ddl reads it (BigDecimal); an exponent alone never becomes a
  // number of that many digits (1e999999999 took 20 s and then threw "Maximum BigInt size exceeded").
  const schema = (bound: string) => `{"type": "object", "properties": {
    "n": {"type": "integer", "minimum": -${bound}, "maximum": ${bound}},
    "x": {"type": "number", "maximum": ${bound}, "multipleOf": 0.01},
    "s": {"type": "string", "maxLength": ${bound}},
    "e": {"enum": [${bound}, 1]}}}`;

  it('give the same Parquet fields and Redshift columns as another bound past every column type', () => {
    expect(normalized(schema('1e999999999'))).toEqual(normalized(schema('1e888888888')));
    expect(normalized(schema('1e999999999'))).toEqual(normalized(schema('1e100'))); // Parquet reads no text length
    expect(columns(schema('1e999999999'))).toEqual(columns(schema('1e888888888'))); // Redshift sizes an enum by its texts
  });

  it('are ordered exactly when models merge', () => {
    const wider = normalized(schema('1e999999999'));
    expect(merged(normalized(schema('1e999999998')), wider)).toEqual({ right: wider });
  });
});

describe('the check over a repository', () => {
  it('compares each version with the model merged from the ones before it, per target, and skips a breaking one', () =>
    withTempDir(async (dir) => {
      const schema = (version: string, foo: unknown) => ({ ...igluctlSchema(version, { foo }), self: { vendor: 'com.acme', name: 'example', format: 'jsonschema', version } });
      await repository(dir, {
        'com.acme/example/jsonschema/1-0-0': schema('1-0-0', { type: 'string', maxLength: 20 }),
        'com.acme/example/jsonschema/1-0-1': schema('1-0-1', { type: 'number' }),
        'com.acme/example/jsonschema/1-0-2': schema('1-0-2', { type: 'string', maxLength: 30 }),
        'com.acme/example/jsonschema/2-0-0': schema('2-0-0', { type: 'boolean' }),
      });
      const redshift = await verifyRepository(dir, { target: 'redshift' });
      expect(redshift.versions.map((v) => [v.schema.slice(-5), v.breaking, v.chosen, v.smallest])).toEqual([
        ['1-0-0', false, null, null],
        ['1-0-1', true, 'ADDITION', 'MODEL'],
        ['1-0-2', false, 'ADDITION', 'MODEL'], // merges into the table, but its type is not 1-0-1's (SchemaVer)
        ['2-0-0', false, 'MODEL', 'MODEL'], // a new model is a new table: nothing to merge with
      ]);
      expect(redshift.changes.map((c) => [c.schema.slice(-5), c.previous.slice(-5), c.kind, c.old, c.new, c.pointer])).toEqual([
        ['1-0-1', '1-0-0', 'IncompatibleTypes', 'VARCHAR(20)', 'DOUBLE PRECISION', '/properties/foo'],
        ['1-0-2', '1-0-0', 'VarcharExtension', 'VARCHAR(20)', 'VARCHAR(30)', '/properties/foo'], // compared with the table as it was
      ]);
      const parquet = await verifyRepository(dir, { target: 'parquet' });
      expect(parquet.changes.map((c) => [c.schema.slice(-5), c.breaking, c.description])).toEqual([['1-0-1', true, 'Incompatible type change String to Double at /foo']]);
    }));

  it('advises the smallest SchemaVer bump (Snowplow\'s versioning docs) beside the one chosen', () =>
    withTempDir(async (dir) => {
      const open = (version: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...igluctlSchema(version, properties), additionalProperties: true, ...extra });
      await repository(dir, {
        'com.test/test/jsonschema/1-0-0': open('1-0-0', { id: { type: 'string' } }),
        'com.test/test/jsonschema/1-0-1': open('1-0-1', { id: { type: 'string' }, cost: { type: 'number' } }),
        'com.test/test/jsonschema/1-1-0': open('1-1-0', { id: { type: 'string' }, cost: { type: 'number' } }, { required: ['id'] }),
        'com.test/test/jsonschema/2-0-0': open('2-0-0', { id: { type: 'string' }, cost: { type: 'number' }, note: { type: ['string', 'null'] } }, { required: ['id'], additionalProperties: false }),
      });
      const report = await verifyRepository(dir);
      expect(report.versions.slice(1).map((v) => [v.schema.slice(-5), v.chosen, v.smallest, v.suggested, v.reasons])).toEqual([
        ['1-0-1', 'ADDITION', 'REVISION', '1-1-0', ['the root: "cost" added where the previous version allowed additional properties, so older data may hold it with another type']],
        ['1-1-0', 'REVISION', 'MODEL', '2-0-0', ['the root: "id" is required now']],
        ['2-0-0', 'MODEL', 'REVISION', '1-2-0', ['the root: "note" added where the previous version allowed additional properties, so older data may hold it with another type', 'the root: additionalProperties is false now']],
      ]);
    }));

  it('reports an input with no schema file: nothing was checked, which is not a pass', () =>
    withTempDir(async (dir) => {
      const report = await verifyRepository(dir);
      expect(report.errors).toEqual([{ file: dir, kind: 'io', message: `${dir} is empty: no <vendor>/<name>/jsonschema/<version> file`, path: '' }]);
    }));

  it('reports a schema schema-ddl cannot read, and what it could not read', () =>
    withTempDir(async (dir) => {
      await repository(dir, { 'com.test/test/jsonschema/1-0-0': { ...igluctlSchema('1-0-0', { id: { type: 'string', minimum: 'five' } }) } });
      const report = await verifyRepository(dir);
      expect(report.errors).toEqual([
        { file: expect.stringMatching(/1-0-0$/), kind: 'syntax', message: 'schema-ddl cannot read it: /properties/id/minimum: cannot be read as "minimum"', path: '/properties/id/minimum' },
      ]);
    }));
});
