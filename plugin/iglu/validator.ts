import type { ErrorObject } from 'ajv';
import { forSnowplow } from './ajv.js';
import { SnowplowAjvs, type CompiledSchema } from './compiled-schema.js';
import { parseJsonExact } from './exact-json.js';
import { decodeEmbeddedJson, EMBEDDED_JSON_FIELDS, isDeeperThan, jsonTypeOf, MAX_JSON_DEPTH, pointerSegment } from './json.js';
import { holdsInexactNumber, nestsAtMost } from './json-text.js';
import { BoundedCache } from './bounded-cache.js';
import { checkMaxJsonDepth, exceedsMaxJsonDepth, tooDeepForEnrich } from './json-depth.js';
import { IgluResolver, type ResolvedSchema } from './resolver.js';
import type { ResolverConfig } from './resolver-config.js';
import { parseIgluUriCached } from './schema-key.js';
import { PAYLOAD_DATA_SCHEMA } from '../schema-uris.js';

const SNOWPLOW = 'com.snowplowanalytics.snowplow';
/** Self-describing JSON nested deeper than this (a wrapper in a wrapper in …) is refused, not recursed into. */
const MAX_WRAPPER_DEPTH = 32;


/** One reason an instance is invalid. */
export interface ValidationIssue {
  /** JSON pointer into the instance; decoded fields (`cx`, `ue_px`, …) are stepped into as if plain JSON. */
  path: string;
  /** JSON pointer into the data that `schema` validated (for bad rows' data reports); absent when no schema ran. */
  dataPath?: string;
  /** The JSON Schema keyword that failed, or `iglu` (resolution, not self-describing), `json`, `base64`. */
  keyword: string;
  message: string;
  /** The Iglu URI of the schema that failed, or `null` when none could be named. */
  schema: string | null;
  /** For type errors: what the schema wanted and what the data had, in JSON Schema type names. */
  expected?: string;
  found?: string;
}

export interface ValidationReport {
  valid: boolean;
  /** The outermost schema: the instance's own, or `payload_data` for a bare tracker payload. */
  schema: string | null;
  errors: ValidationIssue[];
  /** What the verdict did not check, e.g. a remote `$ref` that Snowplow's validator lets match anything. */
  notes: string[];
  /**
   * The instances validated against a later version than they name, because their schema's `$supersededBy`
   * says so (as Snowplow does): `path` points at the instance's data. Present only when there is one.
   */
  superseded?: Superseded[];
}

/** One instance validated against its schema's superseding version: Enrich's `validation_info`, and where. */
export interface Superseded {
  path: string;
  originalSchema: string;
  validatedWith: string;
}

export interface IgluValidatorOptions {
  /** Static Iglu repositories searched before this package's own `schemas/`. */
  repositories?: readonly string[];
  /** An Iglu resolver configuration (`loadResolverConfig(file)`): its repositories are searched after those. */
  resolverConfig?: ResolverConfig;
  /** Milliseconds an HTTP registry may take to answer one lookup. Default 5000. */
  registryTimeout?: number;
  /**
   * Enrich's `maxJsonDepth`: a `co`/`cx`/`ue_pr`/`ue_px` field, an instance's data or a schema nested deeper
   * is invalid. Default 40, as Micro runs Enrich; at most 500 (the hard safety bound).
   */
  maxJsonDepth?: number;
}

/** Compiled schemas kept at most (all of Iglu Central fits); the oldest is dropped from Ajv too. */
const MAX_COMPILED = 4096;

type Compiled = (CompiledSchema & { supersededBy?: string }) | { ok: false; reason: string; keyword: string };

/** What one validation collects (`notes` made on the first note: most validations have none). */
interface Findings {
  errors: ValidationIssue[];
  notes: Set<string> | null;
  superseded: Superseded[] | null;
  /**
   * The fast path's state (see `validateJson`). `source`: the JSON text that the data being validated was
   * parsed from by `JSON.parse`, `null` for a value the caller gave or a text parsed exactly;
   * `sourceInexact`: whether that text holds an inexact number token, asked once per text when a schema
   * with number keywords first runs on its data; `reparse`: one did, so the verdict must be made again
   * from exactly parsed texts (`exact`).
   */
  source: string | null;
  sourceInexact: boolean | undefined;
  /** The data being validated comes from a text with too few brackets to nest past `maxJsonDepth`: no depth walk is needed. */
  shallow: boolean;
  reparse: boolean;
  exact: boolean;
}

/**
 * Validates self-describing JSON, `contexts` wrappers and tracker payloads against Iglu schemas, stepping
 * into the wrappers Snowplow uses: `payload_data` → each payload → `co`/`cx` (contexts) and `ue_pr`/`ue_px`
 * (unstruct_event) → each entity and the inner event. Each schema is compiled once. Never throws on
 * instances: every problem is an issue in the report.
 */
export class IgluValidator {
  readonly resolver: IgluResolver;
  /** Enrich's `maxJsonDepth` this validator applies. */
  readonly maxJsonDepth: number;
  readonly #ajvs: SnowplowAjvs;
  /** By resolved schema: a schema fetched again after the cache's TTL is compiled again. */
  readonly #compiled: BoundedCache<ResolvedSchema, Compiled & { compiled?: object }>;

  constructor(options: IgluValidatorOptions = {}) {
    this.maxJsonDepth = checkMaxJsonDepth(options.maxJsonDepth);
    this.resolver = new IgluResolver(options.repositories, options.resolverConfig, { registryTimeout: options.registryTimeout });
    this.#ajvs = new SnowplowAjvs();
    this.#compiled = new BoundedCache(MAX_COMPILED, null, (_, entry) => {
      if (entry.compiled !== undefined) this.#ajvs.remove(entry.compiled);
    });
  }

  /**
   * Runs a validation (any of the methods below) after loading what it needs from HTTP registries: it runs
   * once, asks the registries for the schemas it found missing (each within the registry timeout), then
   * runs again. Without HTTP registries it is the synchronous validation.
   */
  async settle<T>(run: () => T): Promise<T> {
    let result = run();
    try {
      // Two rounds cover an instance and the entities it wraps; a third would only repeat failed lookups (cached).
      for (let round = 0; round < 2 && this.resolver.hasPending; round++) {
        await this.resolver.fetchPending();
        result = run();
      }
    } finally {
      this.resolver.release();
    }
    return result;
  }

  /** Forgets every lookup and compiled schema (they are read and compiled again when needed). */
  clearCaches(): void {
    this.resolver.clear();
    this.#compiled.clear();
  }

  /** `validate`, with schemas from HTTP registries (see `settle`). */
  validateAsync(instance: unknown): Promise<ValidationReport> {
    return this.settle(() => this.validate(instance));
  }

  /**
   * Detects what `instance` is: self-describing JSON (`{schema, data}`) or a bare tracker payload. Numbers
   * are judged on the texts `parseJsonExact` kept, on their JS values elsewhere.
   */
  validate(instance: unknown): ValidationReport {
    return this.#validate(instance, null);
  }

  /**
   * `validate` for the JSON text of an instance, with the verdicts of `validate(parseJsonExact(text))` at
   * the cost of `JSON.parse`: the text is parsed exactly only when a schema with number keywords
   * (`multipleOf`, bounds, `integer`) ran on a text holding a number token that a JS number does not keep
   * (`1.0`, `1e400`, 17 significant digits), and then validated again. Throws `JSON.parse`'s error for a
   * text that is not JSON (a `RangeError` when it nests too deeply to parse). A caller that needs the value
   * too passes `JSON.parse(text)` as `parsed`, so the text is parsed once.
   */
  validateJson(text: string, parsed: unknown = JSON.parse(text)): ValidationReport {
    return this.#validate(parsed, text);
  }

  #validate(instance: unknown, source: string | null): ValidationReport {
    if (isRecord(instance) && !('schema' in instance) && ('e' in instance || 'tv' in instance)) {
      return this.#payloadReport(instance, PAYLOAD_DATA_SCHEMA, source);
    }
    return this.#report(schemaOf(instance), instance, this.#selfDescribingRoot, source);
  }

  /** A self-describing JSON, and whatever it wraps. */
  validateSelfDescribing(instance: unknown): ValidationReport {
    return this.#report(schemaOf(instance), instance, this.#selfDescribingRoot);
  }

  readonly #selfDescribingRoot = (instance: unknown, found: Findings): void => this.#selfDescribing(instance, '', found);

  /**
   * One tracker payload (a `payload_data` item): its fields against `payloadSchema` (a `payload_data`
   * version, 1-0-4 by default), then its contexts and self-describing event.
   */
  validatePayload(payload: unknown, payloadSchema: string = PAYLOAD_DATA_SCHEMA): ValidationReport {
    return this.#payloadReport(payload, payloadSchema, null);
  }

  #payloadReport(payload: unknown, payloadSchema: string, source: string | null): ValidationReport {
    return this.#report(
      payloadSchema,
      payload,
      (value, found) => {
        const compiled = this.compile(payloadSchema);
        if (compiled.ok) this.#run(compiled, [value], payloadSchema, '', found, '/0');
        else found.errors.push({ path: '', keyword: compiled.keyword, message: compiled.reason, schema: payloadSchema });
        this.#payloadFields(value, '', found);
      },
      source,
    );
  }

  /** `data` against the schema at `uri` alone, without stepping into wrapped instances. */
  validateData(uri: string, data: unknown): ValidationReport {
    return this.#report(uri, data, (value, found) => this.#data(uri, value, '', found));
  }

  /**
   * Runs one validation; an instance too deep to validate safely gets that verdict instead. `source` is the
   * text `instance` was parsed from by `JSON.parse`: if the fast path's verdict may differ from the exact
   * one, the text is parsed exactly and validated again (see `validateJson`).
   */
  #report(schema: string | null, instance: unknown, validate: (instance: unknown, found: Findings) => void, source: string | null = null): ValidationReport {
    const shallow = source !== null && nestsAtMost(source, this.maxJsonDepth - 1);
    let found = newFindings(source, false, shallow);
    if (!(shallow || (source !== null && nestsAtMost(source, MAX_JSON_DEPTH))) && isDeeperThan(instance, MAX_JSON_DEPTH)) found.errors.push(tooDeep('', null));
    else {
      runGuarded(validate, instance, found, schema);
      if (found.reparse) {
        found = newFindings(null, true, shallow); // the same text: as shallow as it was
        runGuarded(validate, source === null ? instance : parseJsonExact(source), found, schema);
      }
    }
    const report: ValidationReport = { valid: found.errors.length === 0, schema, errors: found.errors, notes: found.notes === null ? [] : [...found.notes] };
    if (found.superseded !== null) report.superseded = found.superseded;
    return report;
  }

  /** The compiled validator for `uri`, or why there is none (not found, not JSON, an invalid schema). */
  compile(uri: string): Compiled {
    const resolution = this.resolver.resolve(uri);
    if (!resolution.ok) return { ok: false, reason: resolution.reason, keyword: 'iglu' };
    let compiled = this.#compiled.get(resolution.schema);
    if (compiled === undefined) {
      compiled = this.#compile(uri, resolution.schema);
      this.#compiled.set(resolution.schema, compiled);
    }
    return compiled;
  }

  #compile(uri: string, resolved: ResolvedSchema): Compiled & { compiled?: object } {
    const { schema, file, supersededBy } = resolved;
    if (exceedsMaxJsonDepth(schema, this.maxJsonDepth)) {
      return { ok: false, reason: `schema ${uri} at ${file} is nested deeper than maxJsonDepth ${this.maxJsonDepth}`, keyword: 'depth' };
    }
    const remoteRefs = new Set<string>();
    const compilable = forSnowplow(schema, remoteRefs) as Record<string, unknown>;
    try {
      const notes = [...remoteRefs].map((ref) => `${uri}: $ref ${ref} was not checked (Snowplow's validator resolves no remote $ref: it matches anything)`);
      const compiled = Object.assign(this.#ajvs.compile(compilable, notes), { compiled: compilable });
      return supersededBy === undefined ? compiled : Object.assign(compiled, { supersededBy });
    } catch (error) {
      return { ok: false, reason: `schema ${uri} at ${file} is not a valid schema: ${(error as Error).message}`, keyword: 'schema', compiled: compilable };
    }
  }

  #selfDescribing(instance: unknown, path: string, found: Findings, depth = 0): void {
    const { errors } = found;
    if (depth > MAX_WRAPPER_DEPTH) {
      errors.push({ path, keyword: 'iglu', message: `self-describing JSON nested more than ${MAX_WRAPPER_DEPTH} levels deep`, schema: null });
      return;
    }
    if (!isRecord(instance) || !('schema' in instance) || !('data' in instance)) {
      errors.push({
        path,
        keyword: 'iglu',
        message: `not self-describing JSON: expected an object with "schema" and "data", found ${jsonTypeOf(instance)}`,
        schema: null,
      });
      return;
    }
    const { schema: uri, data } = instance;
    const key = parseIgluUriCached(uri);
    if (key === null) {
      errors.push({
        path: `${path}/schema`,
        keyword: 'iglu',
        message: `${JSON.stringify(uri)} is not an Iglu URI (iglu:vendor/name/format/M-R-A)`,
        schema: null,
      });
      return;
    }
    this.#data(uri as string, data, `${path}/data`, found);
    if (key.vendor !== SNOWPLOW) return;
    // Step into the wrappers even when the wrapper failed, so every broken entity is reported.
    if (key.name === 'contexts' && Array.isArray(data)) {
      data.forEach((entity, i) => this.#selfDescribing(entity, `${path}/data/${i}`, found, depth + 1));
    } else if (key.name === 'unstruct_event' && isRecord(data)) {
      this.#selfDescribing(data, `${path}/data`, found, depth + 1);
    } else if (key.name === 'payload_data' && Array.isArray(data)) {
      data.forEach((payload, i) => this.#payloadFields(payload, `${path}/data/${i}`, found, depth + 1));
    }
  }

  /** The JSON fields inside a payload: `co`/`cx` hold contexts, `ue_pr`/`ue_px` the self-describing event. */
  #payloadFields(payload: unknown, path: string, found: Findings, depth = 0): void {
    if (!isRecord(payload)) return; // the payload_data schema already reported it
    for (const field of EMBEDDED_JSON_FIELDS) {
      const decoded = decodeEmbeddedJson(payload, field, found.exact ? parseJsonExact : JSON.parse);
      if (decoded === undefined) continue;
      if (!decoded.ok) found.errors.push({ path: `${path}/${field}`, keyword: decoded.keyword, message: decoded.message, schema: null });
      else {
        const shallow = nestsAtMost(decoded.text, this.maxJsonDepth - 1);
        if (!shallow && exceedsMaxJsonDepth(decoded.value, this.maxJsonDepth)) {
          found.errors.push(tooDeepForEnrich(`${path}/${field}`, null, this.maxJsonDepth));
          continue;
        }
        // The decoded text is the source of what it holds; the payload's own source again afterwards.
        const saved = { source: found.source, sourceInexact: found.sourceInexact, shallow: found.shallow };
        found.source = found.exact ? null : decoded.text;
        found.sourceInexact = undefined;
        found.shallow = true; // within maxJsonDepth as a whole (counted or walked just now): so is everything in it
        this.#selfDescribing(decoded.value, `${path}/${field}`, found, depth + 1);
        Object.assign(found, saved);
      }
    }
  }

  #data(uri: string, data: unknown, path: string, found: Findings): void {
    if (!found.shallow && exceedsMaxJsonDepth(data, this.maxJsonDepth)) {
      found.errors.push(tooDeepForEnrich(path, uri, this.maxJsonDepth));
      return;
    }
    const compiled = this.compile(uri);
    if (!compiled.ok) found.errors.push({ path, keyword: compiled.keyword, message: compiled.reason, schema: uri });
    else {
      if (compiled.supersededBy !== undefined) (found.superseded ??= []).push({ path, originalSchema: uri, validatedWith: compiled.supersededBy });
      this.#run(compiled, data, uri, path, found);
    }
  }

  /**
   * Runs a compiled schema and turns Ajv's errors into issues; `strip` drops a wrapper's prefix. Data parsed
   * by `JSON.parse` gets the fast function; if the schema has number keywords and the data's text holds an
   * inexact token, the validation is marked to be made again from exactly parsed text.
   */
  #run(compiled: CompiledSchema, data: unknown, uri: string, path: string, found: Findings, strip = ''): void {
    for (const note of compiled.notes) (found.notes ??= new Set()).add(note);
    const validate = compiled.functionFor(data);
    if (validate === compiled.fast && compiled.judgesNumberTexts && found.source !== null) {
      found.sourceInexact ??= holdsInexactNumber(found.source);
      if (found.sourceInexact) found.reparse = true;
    }
    if (validate(data)) return;
    for (const error of validate.errors ?? []) {
      const instancePath = strip !== '' && error.instancePath.startsWith(strip) ? error.instancePath.slice(strip.length) : error.instancePath;
      found.errors.push(toIssue(error, path, instancePath, uri));
    }
  }
}

function newFindings(source: string | null, exact: boolean, shallow = false): Findings {
  return { errors: [], notes: null, superseded: null, source, sourceInexact: undefined, shallow, reparse: false, exact };
}

function runGuarded(validate: (instance: unknown, found: Findings) => void, instance: unknown, found: Findings, schema: string | null): void {
  try {
    validate(instance, found);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    found.errors.push(tooDeep('', schema)); // a recursive schema on deep data: the stack ran out
  }
}

function schemaOf(instance: unknown): string | null {
  return isRecord(instance) && typeof instance.schema === 'string' ? instance.schema : null;
}

function tooDeep(path: string, schema: string | null): ValidationIssue {
  return { path, keyword: 'depth', message: `too deep: JSON nested more than ${MAX_JSON_DEPTH} levels is not validated`, schema };
}

/** An Ajv error as an issue that says where, what was expected and what was found. */
function toIssue(error: ErrorObject, prefix: string, dataPath: string, schema: string): ValidationIssue {
  const issue = shapeIssue(error, dataPath, schema);
  return { ...issue, path: `${prefix}${issue.dataPath}` };
}

function shapeIssue(error: ErrorObject, path: string, schema: string): ValidationIssue & { dataPath: string } {
  const params = error.params as Record<string, unknown>;
  const at = (dataPath: string) => ({ path: dataPath, dataPath });
  switch (error.keyword) {
    case 'type': {
      const expected = Array.isArray(params.type) ? params.type.join(' or ') : String(params.type);
      const found = typeof params.found === 'string' ? params.found : jsonTypeOf(error.data); // `found` from the JSON-text check (1.0 is a number)
      return { ...at(path), keyword: 'type', message: `expected ${expected}, found ${found}`, schema, expected, found };
    }
    case 'required':
      return { ...at(`${path}/${pointerSegment(String(params.missingProperty))}`), keyword: 'required', message: 'is missing but it is required', schema };
    case 'additionalProperties':
      return {
        ...at(`${path}/${pointerSegment(String(params.additionalProperty))}`),
        keyword: 'additionalProperties',
        message: 'is not allowed by the schema (additionalProperties: false)',
        schema,
      };
    case 'enum':
      return {
        ...at(path),
        keyword: 'enum',
        message: `expected one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${preview(error.data)}`,
        schema,
      };
    default:
      return { ...at(path), keyword: error.keyword, message: `${error.message ?? 'is invalid'}, found ${preview(error.data)}`, schema };
  }
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = jsonTypeOf(value); // too deep to print
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
