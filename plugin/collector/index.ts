export { startCollector, type CollectorOptions, type RunningCollector } from './collector.js';
export type { GoodEventFilters } from './event-cache.js';
export { BAD_EVENT_HEADLINE, type BadEvent, type GoodEvent, type RawEvent } from './events.js';
export type { OutputFormat } from './event-output.js';
export type { SessionsReport, UserTimeline, SessionSpan, SessionEventMark } from './session-timeline.js';
export { BadEventsError, WaitTimeoutError, DEFAULT_WAIT_MS, MAX_WAIT_MS, type BadEventsOptions, type WaitOptions } from './event-waiter.js';
export type { AtomicField, EntityQuery, EventQuery } from './event-match.js';
export type { ClosestEvent, FailedEventError, FailedEventReport } from './wait-report.js';
