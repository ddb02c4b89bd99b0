export { startCollector, type CollectorOptions, type RunningCollector } from './collector.js';
export type { BadEventFilters, GoodEventFilters } from './event-cache.js';
export { ATOMIC_SCHEMA, DEFAULT_ATOMIC_FIELDS_LIMITS, atomicFieldIssues, atomicFieldsLimits, type AtomicFieldViolation } from './atomic-fields.js';
export { loadEnrichConfig, type EnrichConfig } from './enrich-config.js';
export { VALIDATION_INFO_SCHEMA } from './superseded-entities.js';
export { BAD_EVENT_HEADLINE, type BadEvent, type GoodEvent, type RawEvent } from './events.js';
export type { OutputFormat } from './event-output.js';
export type { SessionsReport, UserTimeline, SessionSpan, SessionEventMark } from './session-timeline.js';
