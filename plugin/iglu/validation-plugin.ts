/**
 * `createValidationPlugin`: a tracker-core plugin that validates each event's self-describing event and
 * entities against the Iglu schemas, synchronously, before the event is sent.
 *
 * Where it runs: tracker-core 4.8 catches and logs whatever a plugin's `beforeTrack`, `filter` or
 * `afterTrack` throws, so a throw there never reaches `track()`'s caller. What it does not catch is the
 * payload's JSON processor, run by `pb.build()` in the tracker's callback (node-tracker's `sendPayload`
 * builds the payload, then hands it to the emitters). `beforeTrack` installs a processor that validates the
 * event's JSON (its self-describing event, the entities given to `track()`, the plugins' `contexts()` and
 * every entity a plugin adds with `addContextEntity`), then encodes it as tracker-core's own processor does.
 * An error thrown there leaves `tracker.track()` before any emitter sees the event.
 */
import { LOG, payloadJsonProcessor, type CorePlugin, type CorePluginConfiguration, type EventJson, type PayloadBuilder, type SelfDescribingJson, type TrackerCore } from '@snowplow/tracker-core';
import { closestName } from '../util/closest-name.js';
import type { ResolverConfig } from './resolver-config.js';
import { IgluValidator, type ValidationIssue } from './validator.js';

/** One reason an event is invalid. */
export interface EventIssue {
  /** The schema that failed, or null when the JSON could not be read as self-describing. */
  schema: string | null;
  /** `event`: the self-describing event; `entity`: one of the entities (`entity` is its position, from 0). */
  source: 'event' | 'entity';
  entity?: number;
  /** A JSON pointer into the schema's data (`/total`), or into the entity when no schema ran. */
  path: string;
  keyword: string;
  message: string;
}

/** What `onInvalid` receives. */
export interface InvalidEvent {
  /** The event's `eid`. */
  eventId: string | null;
  issues: EventIssue[];
  /** The issues in one line: `iglu:… at /total: must be >= 0, found -5; …`. */
  message: string;
}

export type OnInvalid = 'throw' | 'warn' | ((event: InvalidEvent) => void);

export interface ValidationPluginOptions {
  /**
   * `'throw'` (tests): `track()` throws an `InvalidEventError` and the event is not sent. `'warn'` (the
   * default): one warning per invalid event, which is sent as it is. A function: called with the issues,
   * and the event is sent as it is.
   */
  onInvalid?: OnInvalid;
  /** Static Iglu repositories searched before this package's `schemas/` (all of Iglu Central). */
  schemas?: string[];
  /** An Iglu resolver configuration: schemas from its HTTP registries must be loaded beforehand (`load()`). */
  resolverConfig?: ResolverConfig;
  /** A validator to share (its caches) instead of a new one; `schemas` and `resolverConfig` are then its own. */
  validator?: IgluValidator;
  /** Where warnings and errors go. Default: tracker-core's logger. */
  logger?: { warn(message: string): void; error(message: string, error?: unknown): void };
}

/** The plugin: `tracker.addPlugin(validation)`, or `trackerCore({ corePlugins: [validation.plugin] })`. */
export interface ValidationPlugin extends CorePluginConfiguration {
  plugin: CorePlugin;
  /**
   * Loads schemas from the resolver configuration's HTTP registries (each lookup bounded by the registry
   * timeout), so that events using them validate at `track()`; rejects naming the schemas it could not load.
   */
  load(uris: string[]): Promise<void>;
}

/** Thrown by `track()` with `onInvalid: 'throw'`: the event was not sent. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';

  constructor(
    readonly issues: EventIssue[],
    readonly eventId: string | null,
  ) {
    super(`snowplow-client-session: invalid event, not sent: ${describeIssues(issues)}`);
  }
}

const OPTION_NAMES = ['onInvalid', 'schemas', 'resolverConfig', 'validator', 'logger'];

export function createValidationPlugin(options: ValidationPluginOptions = {}): ValidationPlugin {
  checkOptions(options);
  const onInvalid = options.onInvalid ?? 'warn';
  const logger = options.logger ?? LOG;
  const validator = options.validator ?? new IgluValidator({ repositories: options.schemas, resolverConfig: options.resolverConfig });
  let core: TrackerCore | null = null;
  let refreshing: Promise<void> | null = null;

  /** Schemas an HTTP registry still has to give (a lookup's cache time ran out): fetched for the next events. */
  const refresh = () => {
    refreshing ??= validator
      .settle(() => undefined)
      .catch((error: unknown) => logger.error('snowplow-client-session: createValidationPlugin could not load schemas from the registries', error))
      .finally(() => (refreshing = null));
  };

  const report = (pb: PayloadBuilder, issues: EventIssue[]) => {
    const eid = pb.getPayload().eid;
    const eventId = typeof eid === 'string' ? eid : null;
    if (onInvalid === 'throw') throw new InvalidEventError(issues, eventId);
    const message = describeIssues(issues);
    if (onInvalid === 'warn') return logger.warn(`snowplow-client-session: an invalid event is sent (createValidationPlugin): ${message}`);
    try {
      onInvalid({ eventId, issues, message });
    } catch (error) {
      logger.error('snowplow-client-session: the createValidationPlugin onInvalid callback threw', error);
    }
  };

  // tracker-core's own processor, after the check; it clears what it encodes, so a second build checks nothing.
  const processor = (pb: PayloadBuilder, json: EventJson, entities: SelfDescribingJson[]) => {
    if (json.length > 0 || entities.length > 0) {
      let issues: EventIssue[] = [];
      try {
        issues = eventIssues(validator, json, entities);
      } catch (error) {
        logger.error('snowplow-client-session: createValidationPlugin could not validate an event; it is sent unchecked', error);
      }
      if (validator.resolver.hasPending) refresh();
      if (issues.length > 0) report(pb, issues);
    }
    payloadJsonProcessor(core?.getBase64Encoding() ?? true)(pb, json, entities);
  };

  return {
    plugin: {
      activateCorePlugin(activated) {
        // The processor encodes as the tracker does: it must know the tracker's encodeBase64.
        if (core !== null && core.getBase64Encoding() !== activated.getBase64Encoding()) {
          logger.warn('snowplow-client-session: one createValidationPlugin was added to trackers with different encodeBase64; events are encoded as the last one says: make one plugin per tracker');
        }
        core = activated;
      },
      beforeTrack(pb) {
        pb.withJsonProcessor(processor);
      },
    },
    load: (uris) => loadSchemas(validator, uris),
  };
}

/** The event's issues: its self-describing event (`ue_px`/`ue_pr`), then every entity in the order they are sent. */
function eventIssues(validator: IgluValidator, json: EventJson, added: SelfDescribingJson[]): EventIssue[] {
  const issues: EventIssue[] = [];
  const entities: unknown[] = [];
  for (const { keyIfEncoded, json: value } of json) {
    if (keyIfEncoded === 'cx') entities.push(...(Array.isArray(value.data) ? value.data : [value]));
    else if (keyIfEncoded === 'ue_px') for (const issue of validator.validateSelfDescribing(value.data).errors) issues.push(eventIssue(issue, 'event'));
  }
  entities.push(...added);
  entities.forEach((entity, i) => {
    for (const issue of validator.validateSelfDescribing(entity).errors) issues.push(eventIssue(issue, 'entity', i));
  });
  return issues;
}

function eventIssue(issue: ValidationIssue, source: EventIssue['source'], entity?: number): EventIssue {
  return {
    schema: issue.schema,
    source,
    ...(entity === undefined ? {} : { entity }),
    path: issue.dataPath ?? issue.path,
    keyword: issue.keyword,
    message: issue.message,
  };
}

/** `iglu:com.acme/checkout/jsonschema/1-0-0 at /total: must be >= 0, found -5 (the self-describing event); …` */
export function describeIssues(issues: EventIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.source === 'event' ? 'the self-describing event' : `entity ${issue.entity}`;
      // A schema that cannot be found has no failing path; anything else does.
      const at = issue.keyword === 'iglu' && issue.schema !== null ? '' : ` at ${issue.path === '' ? '/' : issue.path}`;
      return `${issue.schema ?? where}${at}: ${issue.message}${issue.schema === null ? '' : ` (${where})`}`;
    })
    .join('; ');
}

async function loadSchemas(validator: IgluValidator, uris: string[]): Promise<void> {
  if (!Array.isArray(uris) || !uris.every((uri) => typeof uri === 'string')) {
    throw new TypeError('snowplow-client-session: createValidationPlugin load(uris) takes an array of Iglu URIs such as iglu:com.acme/checkout/jsonschema/1-0-0');
  }
  const compiled = await validator.settle(() => uris.map((uri) => validator.compile(uri)));
  const failed = compiled.flatMap((result) => (result.ok ? [] : [result.reason]));
  if (failed.length > 0) throw new Error(`snowplow-client-session: createValidationPlugin could not load ${failed.length} of ${uris.length} schemas: ${failed.join('; ')}`);
}

function checkOptions(options: ValidationPluginOptions): void {
  const fail = (message: string): never => {
    throw new TypeError(`snowplow-client-session: createValidationPlugin ${message}`);
  };
  if (options === null || typeof options !== 'object') fail(`takes an options object such as { onInvalid: 'throw' }, got ${String(options)}`);
  for (const name of Object.keys(options)) {
    if (OPTION_NAMES.includes(name)) continue;
    const near = closestName(name, OPTION_NAMES);
    fail(`has no option \`${name}\`${near === undefined ? '' : ` (did you mean \`${near}\`?)`}; options: ${OPTION_NAMES.join(', ')}`);
  }
  const { onInvalid, schemas, validator } = options;
  if (onInvalid !== undefined && onInvalid !== 'throw' && onInvalid !== 'warn' && typeof onInvalid !== 'function') {
    fail(`option \`onInvalid\` must be 'throw', 'warn' or a function, got ${JSON.stringify(onInvalid)}`);
  }
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.every((dir) => typeof dir === 'string'))) fail('option `schemas` must be an array of folder paths');
  if (validator !== undefined && !(validator instanceof IgluValidator)) fail('option `validator` must be an IgluValidator');
  if (validator !== undefined && (schemas !== undefined || options.resolverConfig !== undefined)) fail('takes `validator`, or `schemas`/`resolverConfig` for a new one, not both');
}
