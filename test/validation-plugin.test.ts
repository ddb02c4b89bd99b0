// createValidationPlugin through the real node-tracker, sending over HTTP to the real collector on 127.0.0.1:
// 'throw' makes track() throw and sends nothing; 'warn' and a callback report and send; schemas from HTTP
// registries are loaded beforehand.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent, newTracker, type Tracker } from '@snowplow/node-tracker';
import type { CorePlugin } from '@snowplow/tracker-core';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';
import { createValidationPlugin, IgluValidator, InvalidEventError, type InvalidEvent } from '../plugin/iglu/index.js';
import { createClientSession, MemorySessionStore } from '../plugin/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { recordingLogger } from './helpers/capture.js';
import { httpRepository, registry } from './helpers/iglu-registry.js';

const SCHEMAS = fileURLToPath(new URL('../examples/schemas', import.meta.url));
const CHECKOUT = 'iglu:com.acme/checkout/jsonschema/1-0-0';
const order = (total: number) => buildSelfDescribingEvent({ event: { schema: CHECKOUT, data: { orderId: 'o-1', total, currency: 'EUR' } } });

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startCollector({ port: 0, schemas: [SCHEMAS] });
});
afterAll(() => collector.close());
afterEach(() => {
  jest.restoreAllMocks();
});

function trackerFor(appId: string, encodeBase64 = true): Tracker {
  return newTracker({ namespace: appId, appId, encodeBase64 }, { endpoint: collector.url, bufferSize: 1 });
}

/** What reached the collector from `appId`: good and failed events. */
async function arrived(tracker: Tracker, appId: string): Promise<{ good: Array<Record<string, unknown>>; bad: number }> {
  await tracker.flush();
  const good = await collector.waitFor({ app_id: appId }, { timeout: 0 }).catch(() => []);
  let bad = 0;
  try {
    collector.expectNoBadEvents({ app_id: appId });
  } catch (error) {
    bad = (error as { total: number }).total;
  }
  return { good, bad };
}

describe('where an error can leave tracker.track() (tracker-core 4.8)', () => {
  it('not from beforeTrack: tracker-core logs what a plugin throws there, and sends the event', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const tracker = trackerFor('throwing-hook');
    tracker.addPlugin({ plugin: { beforeTrack: () => { throw new Error('invalid'); } } });
    expect(() => tracker.track(order(-5))).not.toThrow();
    expect(logged.mock.calls[0]?.[0]).toContain('Plugin beforeTrack');
    expect(await arrived(tracker, 'throwing-hook')).toMatchObject({ bad: 1 });
  });
});

describe("onInvalid: 'throw'", () => {
  it('track() throws naming the schema and the failing path; nothing is sent; valid events go on', async () => {
    const tracker = trackerFor('throw-event');
    tracker.addPlugin(createValidationPlugin({ onInvalid: 'throw', schemas: [SCHEMAS] }));
    let error: unknown;
    try {
      tracker.track(order(-5));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toBe(`snowplow-client-session: invalid event, not sent: ${CHECKOUT} at /total: must be >= 0, found -5 (the self-describing event)`);
    expect((error as InvalidEventError).issues).toEqual([{ schema: CHECKOUT, source: 'event', path: '/total', keyword: 'minimum', message: 'must be >= 0, found -5' }]);
    tracker.track(order(5));
    const { good, bad } = await arrived(tracker, 'throw-event');
    expect({ good: good.map((e) => (e.unstruct_event_com_acme_checkout_1 as { total: number }).total), bad }).toEqual({ good: [5], bad: 0 });
  });

  it('checks every entity: given to track(), from global contexts, from a plugin\'s contexts() and from a plugin\'s addContextEntity (after it in order)', async () => {
    const tracker = trackerFor('throw-entities', false);
    tracker.addPlugin(createValidationPlugin({ onInvalid: 'throw' }));
    let addEntity = false;
    let giveContext = false;
    const later: CorePlugin = {
      contexts: () => (giveContext ? [{ schema: CLIENT_SESSION_SCHEMA, data: { sessionIndex: 1 } }] : []),
      beforeTrack: (pb) => {
        if (addEntity) pb.addContextEntity({ schema: 'iglu:com.acme/unknown/jsonschema/1-0-0', data: {} });
      },
    };
    tracker.addPlugin({ plugin: later });
    const attempt = (entities: Parameters<Tracker['track']>[1] = []) => {
      try {
        tracker.track(buildStructEvent({ category: 'c', action: 'a' }), entities);
        return 'sent';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(attempt([{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'not a uuid' } }])).toBe(
      'snowplow-client-session: invalid event, not sent: iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0 at /id: must match pattern "^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$", found "not a uuid" (entity 0)',
    );
    tracker.addGlobalContexts({ broken: { schema: 'iglu:com.acme/checkout/jsonschema', data: {} } as never });
    expect(attempt()).toBe('snowplow-client-session: invalid event, not sent: entity 0 at /schema: "iglu:com.acme/checkout/jsonschema" is not an Iglu URI (iglu:vendor/name/format/M-R-A)');
    tracker.removeGlobalContexts(['broken']);
    giveContext = true;
    expect(attempt()).toContain(`${CLIENT_SESSION_SCHEMA} at /userId: is missing but it is required (entity 0)`);
    giveContext = false;
    addEntity = true;
    expect(attempt()).toBe('snowplow-client-session: invalid event, not sent: iglu:com.acme/unknown/jsonschema/1-0-0: schema iglu:com.acme/unknown/jsonschema/1-0-0 not found in ' + packageRepositories() + ' (entity 0)');
    addEntity = false;
    expect(attempt()).toBe('sent');
    expect(await arrived(tracker, 'throw-entities')).toMatchObject({ good: [expect.objectContaining({ se_action: 'a' })], bad: 0 });
  });

  it('with the session plugin: a refused event takes no eventIndex; another plugin\'s filter does not swallow the error', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const tracker = trackerFor('throw-session');
    const session = await createClientSession({ store: new MemorySessionStore(), checkInterval: 0 });
    tracker.addPlugin(createValidationPlugin({ onInvalid: 'throw', schemas: [SCHEMAS] }));
    tracker.addPlugin(session);
    tracker.addPlugin({ plugin: { filter: () => true } }); // builds the payload inside tracker-core's try
    tracker.track(order(1));
    expect(() => tracker.track(order(-1))).toThrow(InvalidEventError);
    tracker.track(order(2));
    const { good, bad } = await arrived(tracker, 'throw-session');
    const indexes = good.map((e) => (e.contexts_com_snowplowanalytics_snowplow_client_session_1 as Array<{ eventIndex: number }>)[0]!.eventIndex);
    expect({ indexes, bad }).toEqual({ indexes: [1, 2], bad: 0 });
    // tracker-core logged the filter's failed build once; the error still reached the caller.
    expect(logged.mock.calls.map((call) => String(call[0]))).toEqual([expect.stringContaining('Plugin filter')]);
    await session.close();
  });
});

describe("onInvalid: 'warn' or a callback (production): the event is sent as it is", () => {
  it("'warn' logs one line per invalid event; base64 or not, the payload is encoded as tracker-core encodes it", async () => {
    for (const encodeBase64 of [true, false]) {
      const appId = `warn-${encodeBase64}`;
      const logger = recordingLogger();
      const tracker = trackerFor(appId, encodeBase64);
      tracker.addPlugin(createValidationPlugin({ schemas: [SCHEMAS], logger }));
      const entity = { schema: CLIENT_SESSION_SCHEMA, data: { userId: 'f8a6bd6b-e5fb-4c2b-a5a4-5d45c6bb4e3a', sessionId: '0a9f5f4a-8f1e-4bd4-9c55-8a56c2d3d1b1', sessionIndex: 1, storageMechanism: 'SQLITE' } };
      tracker.track(order(-5), [entity]);
      tracker.track(order(7), [entity]);
      expect(logger.warnings).toEqual([`snowplow-client-session: an invalid event is sent (createValidationPlugin): ${CHECKOUT} at /total: must be >= 0, found -5 (the self-describing event)`]);
      const { good, bad } = await arrived(tracker, appId);
      expect({ good: good.length, bad, entity: good[0]?.contexts_com_snowplowanalytics_snowplow_client_session_1 }).toEqual({ good: 1, bad: 1, entity: [expect.objectContaining({ sessionIndex: 1 })] });
    }
  });

  it('a callback gets the event id and the issues; a callback that throws is logged, never thrown', async () => {
    const seen: InvalidEvent[] = [];
    const logger = recordingLogger();
    const tracker = trackerFor('callback');
    tracker.addPlugin(createValidationPlugin({ schemas: [SCHEMAS], logger, onInvalid: (event) => {
      seen.push(event);
      throw new Error('reporting failed');
    } }));
    expect(() => tracker.track(order(-5))).not.toThrow();
    expect(seen).toEqual([{ eventId: expect.stringMatching(/^[0-9a-f-]{36}$/), issues: [expect.objectContaining({ schema: CHECKOUT, path: '/total' })], message: `${CHECKOUT} at /total: must be >= 0, found -5 (the self-describing event)` }]);
    expect(logger.errors).toEqual(['snowplow-client-session: the createValidationPlugin onInvalid callback threw']);
    const { good, bad } = await arrived(tracker, 'callback');
    expect(bad).toBe(1);
    expect(good).toEqual([]);
    expect(seen[0]!.eventId).toBeTruthy();
  });
});

describe('schemas from HTTP registries', () => {
  it('load() fetches them beforehand; without it track() says so, and the schema is fetched for the next events', async () => {
    const schema = JSON.parse(await readFile(`${SCHEMAS}/com.acme/checkout/jsonschema/1-0-0`, 'utf8')) as unknown;
    const repo = await registry({ [CHECKOUT]: schema });
    try {
      const resolverConfig = { cacheSize: 10, repositories: [httpRepository('Acme registry', repo.uri)] };
      const loaded = createValidationPlugin({ onInvalid: 'throw', resolverConfig });
      await loaded.load([CHECKOUT]);
      const tracker = trackerFor('registry');
      tracker.addPlugin(loaded);
      expect(() => tracker.track(order(-5))).toThrow(`${CHECKOUT} at /total: must be >= 0`);
      await expect(loaded.load(['iglu:com.acme/missing/jsonschema/1-0-0'])).rejects.toThrow('createValidationPlugin could not load 1 of 1 schemas: schema iglu:com.acme/missing/jsonschema/1-0-0 not found');

      const unloaded = createValidationPlugin({ onInvalid: 'throw', resolverConfig });
      const other = trackerFor('registry-unloaded');
      other.addPlugin(unloaded);
      expect(() => other.track(order(5))).toThrow('the HTTP registries are still to be asked');
      for (let i = 0; i < 100 && repo.requests.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20)); // the fetch started by track()
      expect(repo.requests.length).toBe(3);
      expect(() => other.track(order(5))).not.toThrow();
    } finally {
      await repo.close();
    }
  });
});

describe('options', () => {
  it('refuses unknown options and values, naming what is allowed', () => {
    expect(() => createValidationPlugin({ onInvalidd: 'throw' } as never)).toThrow("snowplow-client-session: createValidationPlugin has no option `onInvalidd` (did you mean `onInvalid`?)");
    expect(() => createValidationPlugin({ onInvalid: 'error' } as never)).toThrow("option `onInvalid` must be 'throw', 'warn' or a function, got \"error\"");
    expect(() => createValidationPlugin({ validator: new IgluValidator(), schemas: [SCHEMAS] })).toThrow('not both');
    expect(() => createValidationPlugin({ schemas: 'schemas' as never })).toThrow('option `schemas` must be an array of folder paths');
  });

  it('one plugin on trackers that encode differently is a warning: it encodes as its tracker does', () => {
    const logger = recordingLogger();
    const validation = createValidationPlugin({ logger });
    trackerFor('encoding-a', true).addPlugin(validation);
    trackerFor('encoding-b', true).addPlugin(validation);
    expect(logger.warnings).toEqual([]);
    trackerFor('encoding-c', false).addPlugin(validation);
    expect(logger.warnings).toEqual([expect.stringContaining('one createValidationPlugin was added to trackers with different encodeBase64')]);
  });
});

/** The repositories a validator without options searches (this package's schemas/), as its messages name them. */
function packageRepositories(): string {
  return new IgluValidator().resolver.repositories.join(', ');
}
