export { snowplowMatchers, type SnowplowMatchers } from './matchers.js';
export { assertNoBadEvents, assertTracked } from './assertions.js';
export type { TestedCollector } from './collector-like.js';
