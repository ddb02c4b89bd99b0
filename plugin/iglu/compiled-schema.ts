/**
 * A schema compiled for Snowplow's verdicts, in the two forms of number-keywords.ts: `fast` for values
 * parsed by `JSON.parse` from exact number tokens, `validate` for values that may carry kept number texts
 * (`parseJsonExact`). A schema with no number keyword has one function for both; the exact form of one
 * that has some is compiled on first use (most runs never need it).
 */
import type { ValidateFunction } from 'ajv';
import { createIgluAjv, type IgluAjv } from './ajv.js';
import { hasKeptTexts } from './exact-json.js';
import { judgesNumberTexts } from './number-keywords.js';

export class CompiledSchema {
  readonly ok = true;
  /** Whether a keyword's verdict can depend on a number's text (`multipleOf`, `minimum`/`maximum`, `integer`). */
  readonly judgesNumberTexts: boolean;
  #exact: ValidateFunction | undefined;

  constructor(
    /** The schema as compiled (`forSnowplow`'s copy). */
    readonly schema: object,
    /** For values whose every number came from an exact token: Snowplow's verdicts at plain Ajv's speed. */
    readonly fast: ValidateFunction,
    /** What the verdicts did not check (remote `$ref`s). */
    readonly notes: string[],
    private readonly ajvs: SnowplowAjvs,
  ) {
    this.judgesNumberTexts = judgesNumberTexts(schema);
    if (!this.judgesNumberTexts) this.#exact = fast;
  }

  /** Judges numbers on the texts `parseJsonExact` kept where there are some, on doubles elsewhere. */
  get validate(): ValidateFunction {
    return (this.#exact ??= this.ajvs.exact.compile(this.schema));
  }

  /** The function for `data`: the exact one only when `data` holds kept number texts. */
  functionFor(data: unknown): ValidateFunction {
    return this.judgesNumberTexts && hasKeptTexts(data) ? this.validate : this.fast;
  }
}

/** The two Ajv instances behind `CompiledSchema`s: the exact one is made on first need. */
export class SnowplowAjvs {
  readonly fast: IgluAjv = createIgluAjv('fast');
  #exact: IgluAjv | undefined;

  get exact(): IgluAjv {
    return (this.#exact ??= createIgluAjv('exact'));
  }

  /** Compiles `schema` (`forSnowplow`'s copy); throws Ajv's error for an invalid schema. */
  compile(schema: object, notes: string[]): CompiledSchema {
    return new CompiledSchema(schema, this.fast.compile(schema), notes, this);
  }

  /** Drops a compiled schema from both instances (a bounded cache evicted it). */
  remove(schema: object): void {
    this.fast.removeSchema(schema);
    this.#exact?.removeSchema(schema);
  }
}
