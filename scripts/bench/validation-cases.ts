/** What `createValidationPlugin` costs per event at `track()`. */
import { buildSelfDescribingEvent, trackerCore, type CorePlugin } from '@snowplow/tracker-core';
import { createValidationPlugin, IgluValidator } from '../../plugin/iglu/index.js';
import { alternate, gc, median, ratio, ratios, spread, type BenchRow } from './harness.js';
import { STATIC_ENTITY } from './plugin-cases.js';

const EVENTS = 20_000;
const ROUNDS = 6;
/** A self-describing event of Iglu Central (vendored), as an app tracks it. */
const LINK_CLICK = { schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', data: { targetUrl: 'https://example.com/checkout', elementId: 'buy', elementClasses: ['button', 'primary'] } };

/** Times `EVENTS` self-describing events with one entity through a trackerCore (base64, as node-tracker), with `plugins`. */
function timeEvents(plugins: CorePlugin[]): number {
  const core = trackerCore({ base64: true, corePlugins: plugins, callback: (pb) => void pb.build() });
  gc();
  const start = performance.now();
  for (let i = 0; i < EVENTS; i++) core.track(buildSelfDescribingEvent({ event: LINK_CLICK }), STATIC_ENTITY);
  return performance.now() - start;
}

export async function validationPluginCost(): Promise<BenchRow> {
  const validator = new IgluValidator(); // shared: schemas are compiled once, as in an app's one tracker
  const plugins = (variant: 'bare' | 'validating') => (variant === 'bare' ? [] : [createValidationPlugin({ onInvalid: 'throw', validator }).plugin]);
  const times = await alternate(ROUNDS, ['bare', 'validating'] as const, async (variant) => timeEvents(plugins(variant)));
  const r = ratios(times.validating, times.bare);
  const addedUs = times.validating.map((t, i) => ((t - times.bare[i]!) * 1000) / EVENTS);
  return {
    case: 'validation plugin at track()',
    measuredAs: `20k self-describing events (link_click) with a client_session entity, trackerCore base64: plugin on / off; µs added per event`,
    result: `${ratio(median(r))} (+${median(addedUs).toFixed(1)} µs/event, ${(median(times.bare) * 1000 / EVENTS).toFixed(1)} µs without)`,
    spread: spread(r, ratio),
    target: 'reported',
    met: 'n/a',
    data: { ratios: r, addedMicroseconds: addedUs, ms: times },
  };
}
