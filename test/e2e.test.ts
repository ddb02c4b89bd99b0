import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildStructEvent } from '@snowplow/tracker-core';
import { startCollector, type GoodEvent, type RunningCollector } from '../plugin/collector/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { createClientSession, LowdbSessionStore, MemorySessionStore, type ClientSessionEntity } from '../plugin/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { manualClock, withTempDir } from './helpers/capture.js';
import { httpTracker, micro } from './helpers/micro.js';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startCollector({ port: 0 });
});
afterAll(() => collector.close());

function sessionOf(event: GoodEvent): ClientSessionEntity {
  const contexts = event.event.contexts as { data: Array<{ schema: string; data: ClientSessionEntity }> };
  const found = contexts.data.filter((e) => e.schema === CLIENT_SESSION_SCHEMA);
  expect(found).toHaveLength(1);
  return found[0]!.data;
}

describe('end to end: node-tracker → plugin → HTTP → collector', () => {
  it('sessionizes across a timeout and a restart on one lowdb file, every entity valid', () =>
    withTempDir(async (dir) => {
      const api = micro(collector.url);
      await api.reset();
      const file = join(dir, 'client_session.json');
      const clock = manualClock();
      const app = async () => {
        const session = await createClientSession({ store: new LowdbSessionStore({ file }), now: clock.now });
        const tracker = httpTracker(collector.url, session);
        return { session, track: (action: string) => tracker.track(buildStructEvent({ category: 'e2e', action })), stop: async () => (await tracker.flush(), await session.close()) };
      };

      const first = await app();
      first.track('a1');
      clock.advance(60_000);
      first.track('a2');
      clock.advance(601_000); // over the 600 s foreground timeout
      first.track('b1');
      await first.stop();
      clock.advance(120_000); // a restart within the timeout
      const second = await app();
      second.track('b2');
      await second.stop();

      expect(await api.all()).toEqual({ total: 4, good: 4, bad: 0 });
      const events = (await api.good()).reverse(); // oldest first
      const byAction = Object.fromEntries(events.map((e) => [e.event.se_action as string, { entity: sessionOf(e), eid: e.event.event_id, dtm: e.event.dvce_created_tstamp }]));
      const { a1, a2, b1, b2 } = byAction as Record<string, { entity: ClientSessionEntity; eid: string; dtm: string }>;
      expect(a1!.entity).toMatchObject({ sessionIndex: 1, eventIndex: 1, previousSessionId: null, firstEventId: a1!.eid, firstEventTimestamp: a1!.dtm });
      expect(a2!.entity).toMatchObject({ sessionId: a1!.entity.sessionId, eventIndex: 2, firstEventId: a1!.eid });
      expect(b1!.entity).toMatchObject({ sessionIndex: 2, eventIndex: 1, previousSessionId: a1!.entity.sessionId, firstEventId: b1!.eid, userId: a1!.entity.userId });
      expect(b2!.entity).toEqual({ ...b1!.entity, eventIndex: 2 }); // the second process continued the session
      const validator = new IgluValidator();
      for (const e of events) expect(validator.validateData(CLIENT_SESSION_SCHEMA, sessionOf(e)).valid).toBe(true);
    }));

  it('delivers session_end before the next session\'s first event (sessionEvents)', async () => {
    const api = micro(collector.url);
    await api.reset();
    const clock = manualClock();
    const session = await createClientSession({ store: new MemorySessionStore(), now: clock.now, sessionEvents: true, checkInterval: 0 });
    const tracker = httpTracker(collector.url, session);
    tracker.track(buildStructEvent({ category: 'e2e', action: 'first' }));
    clock.advance(11 * 60_000);
    tracker.track(buildStructEvent({ category: 'e2e', action: 'second' }));
    await tracker.flush();
    expect(await api.all()).toEqual({ total: 5, good: 5, bad: 0 });
    const arrived = (await api.good())
      .reverse()
      .map((e) => (e.eventType === 'unstruct' ? `${e.event.event_name} ${sessionOf(e).sessionIndex}` : `${e.event.se_action} ${sessionOf(e).sessionIndex}`));
    expect(arrived).toEqual(['session_start 1', 'first 1', 'session_end 1', 'session_start 2', 'second 2']);
  });
});
