/** Every Iglu URI this package emits or validates against, in one place. */
export const CLIENT_SESSION_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2';
export const CONTEXTS_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1';
export const UNSTRUCT_EVENT_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';
export const PAYLOAD_DATA_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';
/** Every `payload_data` version (1-0-0..1-0-4) starts with this. */
export const PAYLOAD_DATA_PREFIX = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-';
export const APPLICATION_BACKGROUND_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/application_background/jsonschema/1-0-0';
export const APPLICATION_FOREGROUND_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/application_foreground/jsonschema/1-0-0';
/** Enrich's failure entity (Micro's failed events) and the atomic event's schema its errors name. */
export const FAILURE_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/failure/jsonschema/1-0-0';
export const ATOMIC_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0';
/** Enrich's entity for an instance validated against its schema's superseding version. */
export const VALIDATION_INFO_SCHEMA = 'iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0';
export const SCHEMA_VIOLATIONS_SCHEMA = 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1';
/** The `$schema` every Iglu schema declares: the self-describing meta-schema (JSON Schema draft-04). */
export const IGLU_META_SCHEMA_URI = 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#';
/** This project's own lifecycle events (`sessionEvents: true`). */
export const SESSION_START_SCHEMA = 'iglu:io.github.snowplow-client-session/session_start/jsonschema/1-0-0';
export const SESSION_END_SCHEMA = 'iglu:io.github.snowplow-client-session/session_end/jsonschema/1-0-1';
