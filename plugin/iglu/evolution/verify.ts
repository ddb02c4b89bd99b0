import { join, relative } from 'node:path';
import { pointerSegment } from '../json.js';
import { parseSchemaText, readSchemaFiles, type SchemaFile, type SchemaFileIssue } from '../schema-files.js';
import { compareSchemaVer } from '../schema-key.js';
import { bumped, bumpRank, chosenBump, smallestBump, type Bump } from './advice.js';
import { canonicalJson, decodeSchema, SchemaDecodingError, type DdlSchema } from './ddl-schema.js';
import { rulesFor, type EvolutionTarget, type TargetChange } from './targets.js';

/** A schema as published at the base (a git ref): its path inside the repository, and its text there. */
export interface PublishedSchema {
  path: string;
  text: string;
}

export interface VerifyOptions {
  /** Which warehouse rules apply. Default `parquet`. */
  target?: EvolutionTarget;
  /** The versions published at the base: then only new versions are checked, and published ones must not change. */
  published?: readonly PublishedSchema[];
}

/** One change a version makes to its model's table, under the target's rules. */
export interface SchemaChange extends TargetChange {
  /** The version that makes the change. */
  schema: string;
  /** The last version merged into the model before it (the table it is compared with holds every version up to this one). */
  previous: string;
  target: EvolutionTarget;
  file: string;
}

/** The verdict on one checked version, with versioning advice. */
export interface VersionReport {
  schema: string;
  file: string;
  /** The version before it in SchemaVer order (any model), or `null` for the first. */
  previous: string | null;
  /** A change within its model that the loader cannot migrate. */
  breaking: boolean;
  /** The bump taken from `previous`, and the smallest correct one, with the reasons. */
  chosen: Bump | null;
  smallest: Bump | null;
  suggested: string | null;
  reasons: string[];
}

/** A published version changed in place, or removed, since the base. */
export interface EditedSchema {
  schema: string;
  file: string;
  change: 'modified' | 'deleted';
  description: string;
}

export interface VerifyReport {
  target: EvolutionTarget;
  changes: SchemaChange[];
  versions: VersionReport[];
  edited: EditedSchema[];
  /** With a base: the schema files added, modified or deleted since it. */
  files: Array<{ file: string; status: 'added' | 'modified' | 'deleted' }>;
  /** Files that could not be read as schemas: nothing could be checked for them. */
  errors: SchemaFileIssue[];
  /** How many checked versions break their model. */
  breaking: number;
}

interface Member {
  file: SchemaFile;
  ddl: DdlSchema;
  /** Checked and reported (every version without a base; new ones with one). */
  checked: boolean;
}

/**
 * Checks a static Iglu repository's schema evolution as the warehouse loaders see it: each vendor/name is
 * taken in SchemaVer order; within a model, each version is merged into the model built from the versions
 * before it (schema-ddl's rules for the target), and a version that does not merge is breaking (the next
 * version is compared with the model as it was, as igluctl's `verify parquet` and the RDB Loader do).
 */
export async function verifyRepository(input: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const target = options.target ?? 'parquet';
  const read = await readSchemaFiles(input);
  const report: VerifyReport = { target, changes: [], versions: [], edited: [], files: [], errors: [...read.issues], breaking: 0 };
  if (read.files === 0 && (options.published ?? []).length === 0) {
    report.errors.push({ file: input, kind: 'io', message: `${input} is empty: no <vendor>/<name>/jsonschema/<version> file`, path: '' });
  }
  const members = withBase(input, read.schemas, options.published, report);
  const decoded: Member[] = [];
  for (const member of members) {
    try {
      decoded.push({ ...member, ddl: decodeSchema(member.file.schema) });
    } catch (error) {
      if (!(error instanceof SchemaDecodingError)) throw error;
      report.errors.push({ file: member.file.file, kind: 'syntax', message: `schema-ddl cannot read it: ${error.message}`, path: error.pointer });
    }
  }
  for (const family of families(decoded)) checkFamily(family, target, report);
  report.breaking = report.versions.filter((v) => v.breaking).length;
  return report;
}

/** The versions to check: all of the working tree's, or the base's published ones plus the new ones. */
function withBase(input: string, working: SchemaFile[], published: readonly PublishedSchema[] | undefined, report: VerifyReport): Array<Omit<Member, 'ddl'>> {
  if (published === undefined) return working.map((file) => ({ file, checked: true }));
  const byUri = new Map(working.map((f) => [f.uri, f]));
  const members: Array<Omit<Member, 'ddl'>> = [];
  const publishedUris = new Set<string>();
  for (const { path, text } of published) {
    const file = join(input, path);
    const parsed = parseSchemaText(text, file, relative(process.cwd(), file) || file);
    if ('issue' in parsed) {
      report.errors.push({ ...parsed.issue, message: `at the base: ${parsed.issue.message}` });
      continue;
    }
    publishedUris.add(parsed.uri);
    members.push({ file: parsed, checked: false }); // as published: that is what the warehouse has
    const now = byUri.get(parsed.uri);
    if (now === undefined) {
      report.edited.push({ schema: parsed.uri, file: parsed.file, change: 'deleted', description: 'a published version was deleted' });
      report.files.push({ file: parsed.file, status: 'deleted' });
    } else if (canonicalJson(now.schema) !== canonicalJson(parsed.schema)) {
      const where = differences(parsed.schema, now.schema, '').slice(0, 5);
      report.edited.push({ schema: parsed.uri, file: now.file, change: 'modified', description: `a published version was edited in place (at ${where.map((p) => p || '/').join(', ')}): publish the change as a new version` });
      report.files.push({ file: now.file, status: 'modified' });
    }
  }
  for (const file of working.filter((f) => !publishedUris.has(f.uri))) {
    members.push({ file, checked: true });
    report.files.push({ file: file.file, status: 'added' });
  }
  report.files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return members;
}

/** The JSON Pointers where two values differ (the first few are enough to find an edit). */
function differences(a: unknown, b: unknown, pointer: string): string[] {
  const objects = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (objects(a) && objects(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences(a[k], b[k], `${pointer}/${pointerSegment(k)}`));
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [pointer];
}

function families(members: Member[]): Member[][] {
  const byFamily = new Map<string, Member[]>();
  for (const m of members) {
    const key = `${m.file.vendor}/${m.file.name}`;
    byFamily.set(key, [...(byFamily.get(key) ?? []), m]);
  }
  return [...byFamily.keys()].sort().map((key) => byFamily.get(key)!.sort((a, b) => compareSchemaVer(a.file.version, b.file.version)));
}

function checkFamily(family: Member[], target: EvolutionTarget, report: VerifyReport): void {
  const rules = rulesFor(target);
  const models = new Map<number, { state: unknown; last: string }>();
  family.forEach((member, i) => {
    const { file, ddl } = member;
    const built = rules.build(ddl, file.schema);
    const model = models.get(file.version[0]);
    const predecessor = i > 0 ? family[i - 1]! : null;
    let breaking: string[] = [];
    if (model === undefined) {
      models.set(file.version[0], { state: built, last: file.uri });
      // A new model: what the predecessor's table would have made of it, for the advice only.
      const before = predecessor === null ? undefined : models.get(predecessor.file.version[0]);
      if (before !== undefined) breaking = rules.merge(before.state, built, file.schema).changes.filter((c) => c.breaking).map((c) => c.description);
    } else {
      const merged = rules.merge(model.state, built, file.schema);
      breaking = merged.changes.filter((c) => c.breaking).map((c) => c.description);
      if (member.checked) for (const change of merged.changes) report.changes.push({ schema: file.uri, previous: model.last, target, file: file.file, ...change });
      if (merged.state !== null) models.set(file.version[0], { state: merged.state, last: file.uri });
    }
    if (member.checked) report.versions.push(versionReport(member, predecessor, breaking, model !== undefined));
  });
}

function versionReport(member: Member, predecessor: Member | null, targetBreaking: string[], sameModel: boolean): VersionReport {
  const { file } = member;
  const base = { schema: file.uri, file: file.file, breaking: sameModel && targetBreaking.length > 0 };
  if (predecessor === null) return { ...base, previous: null, chosen: null, smallest: null, suggested: null, reasons: [] };
  const advice = smallestBump(predecessor.file.schema, file.schema, targetBreaking);
  const chosen = chosenBump(predecessor.file.version, file.version);
  const suggested = bumpRank(chosen) === bumpRank(advice.smallest) ? null : bumped(predecessor.file.version, advice.smallest);
  return { ...base, previous: predecessor.file.uri, chosen, smallest: advice.smallest, suggested, reasons: advice.reasons };
}
