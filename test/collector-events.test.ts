// Micro 4's query API (`POST /micro/events`, `/micro/timeline`), `/micro/columns`, the sessions endpoint,
// and Micro's `-j`/`-t` output, against the examples of Micro's REST API reference
// (docs.snowplow.io/docs/api-reference/snowplow-micro/api/), fed by the real node-tracker over HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { buildSelfDescribingEvent, buildStructEvent } from '@snowplow/node-tracker';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';
import { ENRICHED_FIELDS } from '../plugin/collector/enriched-event.js';
import { createClientSession, MemorySessionStore } from '../plugin/index.js';
import { APPLICATION_BACKGROUND_SCHEMA, APPLICATION_FOREGROUND_SCHEMA, CLIENT_SESSION_SCHEMA, SCHEMA_VIOLATIONS_SCHEMA } from '../plugin/schema-uris.js';
import { collectorProcess, httpTracker, micro } from './helpers/micro.js';

type Row = Record<string, unknown>;
interface Page {
  events: Row[];
  totalPages: number;
  totalItems: number;
}

const FAILURE = 'contexts_com_snowplowanalytics_snowplow_failure_1';
const SESSION = 'contexts_com_snowplowanalytics_snowplow_client_session_1';
let collector: RunningCollector;

beforeAll(async () => {
  collector = await startCollector({ port: 0 });
});
afterAll(() => collector.close());
beforeEach(async () => {
  await micro(collector.url).reset();
});

const events = async (body: unknown): Promise<Page> => {
  const response = await fetch(`${collector.url}/micro/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return (await response.json()) as Page;
};

/** `count` struct events from app `appId` through the real tracker (with the plugin), then one unresolvable self-describing event. */
async function sendEvents(appId: string, count: number): Promise<void> {
  const session = await createClientSession({ store: new MemorySessionStore() });
  const tracker = httpTracker(collector.url, session);
  tracker.setAppId(appId);
  for (let i = 0; i < count; i++) tracker.track(buildStructEvent({ category: 'shop', action: `action-${i}`, label: i % 2 === 0 ? 'Even' : 'odd' }));
  tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.example/missing/jsonschema/1-0-0', data: { foo: 'bar' } } }));
  await tracker.flush();
  await session.close();
}

describe('POST /micro/events', () => {
  it('answers the documented example request with the documented response shape', async () => {
    await sendEvents('myapp', 3);
    await sendEvents('other', 2);
    const start = new Date(Date.now() - 60_000).toISOString();
    const end = new Date(Date.now() + 60_000).toISOString();
    const page = await events({
      filters: [{ column: 'app_id', value: 'myapp' }],
      validEvents: true,
      timeRange: { start, end },
      sorting: { column: 'collector_tstamp', desc: true },
      page: 1,
      pageSize: 50,
    });
    expect(Object.keys(page).sort()).toEqual(['events', 'totalItems', 'totalPages']);
    expect(page).toMatchObject({ totalItems: 3, totalPages: 1 });
    for (const event of page.events) {
      expect(event).toMatchObject({ app_id: 'myapp', event: 'struct', event_name: 'event', platform: 'srv', v_tracker: expect.stringMatching(/^node-/) });
      expect(event.event_id).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
      // Analytics SDK JSON: every atomic field present, entities shredded into their own columns.
      for (const field of ENRICHED_FIELDS.filter((f) => !['contexts', 'derived_contexts', 'unstruct_event'].includes(f))) expect(event).toHaveProperty(field);
      expect(event[SESSION]).toEqual([expect.objectContaining({ eventIndex: expect.any(Number), _schema_version: CLIENT_SESSION_SCHEMA })]);
    }
    const times = page.events.map((e) => String(e.collector_tstamp));
    expect(times).toEqual([...times].sort().reverse());
  });

  it('answers a failed event like the documented unresolved-schema example', async () => {
    await sendEvents('myapp', 1);
    const page = await events({ filters: [], validEvents: false, page: 1, pageSize: 10 });
    expect(page.totalItems).toBe(1);
    const [failure] = page.events[0]![FAILURE] as Row[];
    expect(page.events[0]).toMatchObject({ app_id: 'myapp', event: 'unstruct', platform: 'srv' });
    expect(failure).toMatchObject({
      data: { foo: 'bar' },
      errors: [{ source: 'unstruct', message: 'Resolution error: schema iglu:com.example/missing/jsonschema/1-0-0 not found', lookupHistory: expect.arrayContaining([expect.objectContaining({ errors: [{ error: 'NotFound' }], attempts: 1 })]) }],
      schema: 'iglu:com.example/missing/jsonschema/1-0-0',
      failureType: 'ResolutionError',
      componentName: 'snowplow-client-session',
      _schema_version: 'iglu:com.snowplowanalytics.snowplow/failure/jsonschema/1-0-0',
    });
    expect(Date.parse(String(failure!.timestamp))).not.toBeNaN();
  });

  it('points a validation failure at the offending field', async () => {
    const session = await createClientSession({ store: new MemorySessionStore() });
    const tracker = httpTracker(collector.url, session);
    tracker.track(buildSelfDescribingEvent({ event: { schema: APPLICATION_BACKGROUND_SCHEMA, data: { backgroundIndex: 'first' } } }));
    await tracker.flush();
    await session.close();
    const [row] = (await events({ validEvents: false })).events;
    const [failure] = row![FAILURE] as Row[];
    expect(failure).toMatchObject({
      failureType: 'ValidationError',
      schema: APPLICATION_BACKGROUND_SCHEMA,
      data: { backgroundIndex: 'first' },
      errors: [{ source: 'unstruct', path: '$.backgroundIndex', keyword: 'type', targets: ['string', 'integer'], field: '/ue_px/data/data/backgroundIndex' }],
    });
    expect((failure!.errors as Row[])[0]!.message).toMatch(/^\$\.backgroundIndex: /);
  });

  it('filters by column (Micro 4.4+ `values`: case-insensitive exact, any of; before 4.4 `value`: a substring; filters all of), pages and sorts', async () => {
    await sendEvents('myapp', 5);
    await sendEvents('other', 4);
    expect((await events({ filters: [{ column: 'se_label', value: 'EVEN' }], validEvents: null })).totalItems).toBe(3 + 2);
    expect((await events({ filters: [{ column: 'app_id', values: ['MYAPP', 'zzz'] }, { column: 'se_label', value: 'ven' }] })).totalItems).toBe(3);
    expect((await events({ filters: [{ column: 'app_id', values: ['MYA'] }], validEvents: null })).totalItems).toBe(0); // exact, not a substring
    expect((await events({ filters: [{ column: 'se_label', values: ['even', ''] }] })).totalItems).toBe(3 + 2); // empty values are no filter (Micro)
    expect((await events({ filters: [{ column: 'no_such_column', value: 'x' }] })).totalItems).toBe(0);
    // Micro ignores a filter on an entity or event column, and so does this collector…
    expect((await events({ filters: [{ column: SESSION, values: ['"eventIndex":2'] }], validEvents: null })).totalItems).toBe(11);
    // …but its extension searches them: `columns`, any of which may match, `match: "contains"`, dotted sub-columns too.
    expect((await events({ filters: [{ columns: [SESSION], values: ['"eventIndex":2'], match: 'contains' }] })).totalItems).toBe(2);
    expect((await events({ filters: [{ columns: [`${SESSION}.eventIndex`], values: ['2'] }] })).totalItems).toBe(2);
    expect((await events({ filters: [{ columns: ['event_name', 'se_action'], values: ['action-4', 'MISSING'] }] })).totalItems).toBe(1 + 2);
    expect((await events({ validEvents: null })).totalItems).toBe(11);
    const paged = await events({ page: 3, pageSize: 4, validEvents: null });
    expect(paged).toMatchObject({ totalItems: 11, totalPages: 3 });
    expect(paged.events).toHaveLength(3);
    const byAction = await events({ validEvents: true, sorting: { column: 'se_action', desc: false }, pageSize: 100 });
    expect(byAction.events.map((e) => e.se_action)).toEqual(['action-0', 'action-0', 'action-1', 'action-1', 'action-2', 'action-2', 'action-3', 'action-3', 'action-4']);
    const withMissing = await events({ validEvents: null, sorting: { column: 'se_action', desc: true }, pageSize: 100 });
    expect(withMissing.events.slice(-2).map((e) => e.se_action)).toEqual([null, null]); // the failed events have no action: last either way
  });

  it('refuses a malformed query with 400 and what is allowed', async () => {
    const status = async (body: unknown) => {
      const response = await fetch(`${collector.url}/micro/events`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
      return [response.status, ((await response.json()) as { error: string }).error];
    };
    expect(await status({ page: 0 })).toEqual([400, 'page must be a whole number >= 1, got 0']);
    expect(await status({ filters: [{ column: 'app_id' }] })).toEqual([400, 'filters[0] needs "value" (a string) or "values" (an array of strings)']);
    expect(await status({ timeRange: { start: 'yesterday' } })).toEqual([400, 'timeRange.start must be an ISO 8601 time such as 2025-01-01T00:00:00Z, got "yesterday"']);
    expect(await status({ validEvents: 'yes' })).toEqual([400, 'validEvents must be true, false or null']);
    expect(await status([])).toEqual([400, 'the request body must be a JSON object']);
  });

  it('GET answers every event as Micro 3 did: an array of Analytics SDK JSON, newest first', async () => {
    await sendEvents('myapp', 2);
    const all = (await (await fetch(`${collector.url}/micro/events`)).json()) as Row[];
    expect(all).toHaveLength(3);
    expect(all[0]).toHaveProperty(FAILURE);
    expect(all.map((e) => e.se_action)).toEqual([null, 'action-1', 'action-0']);
  });
});

describe('/micro/columns and /micro/timeline', () => {
  it('lists the atomic columns and the entity columns of stored events', async () => {
    await sendEvents('myapp', 1);
    const columns = (await (await fetch(`${collector.url}/micro/columns`)).json()) as string[];
    expect(columns.slice(0, 3)).toEqual(['app_id', 'platform', 'etl_tstamp']);
    expect(columns).toEqual(expect.arrayContaining(['event_name', 'true_tstamp', SESSION, FAILURE]));
    expect(columns).not.toContain('contexts');
  });

  it('counts valid and failed events per bucket, as the documented example', async () => {
    await sendEvents('myapp', 2);
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const buckets = [{ start: iso(now - 3_600_000), end: iso(now + 60_000) }, { start: iso(now + 60_000), end: iso(now + 120_000) }];
    const response = await fetch(`${collector.url}/micro/timeline`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ buckets }) });
    expect(await response.json()).toEqual({ points: [{ validEvents: 2, failedEvents: 1, bucket: buckets[0] }, { validEvents: 0, failedEvents: 0, bucket: buckets[1] }] });
  });
});

describe('GET /micro/sessions', () => {
  it('builds each user\'s sessions from the client_session entities, with end reasons and background periods', async () => {
    let time = Date.UTC(2026, 0, 1, 9);
    const session = await createClientSession({ store: new MemorySessionStore(), foregroundTimeout: 600, backgroundTimeout: 300, sessionEvents: true, now: () => time });
    const tracker = httpTracker(collector.url, session);
    const track = (action: string) => tracker.track(buildStructEvent({ category: 'c', action }), null, time);
    track('a');
    time += 11 * 60_000; // foreground timeout
    track('b');
    tracker.track(buildSelfDescribingEvent({ event: { schema: APPLICATION_BACKGROUND_SCHEMA, data: { backgroundIndex: 1 } } }), null, time);
    time += 6 * 60_000; // background timeout
    track('c');
    tracker.track(buildSelfDescribingEvent({ event: { schema: APPLICATION_FOREGROUND_SCHEMA, data: { foregroundIndex: 1 } } }), null, time);
    await tracker.flush();
    const report = (await (await fetch(`${collector.url}/micro/sessions`)).json()) as { users: Array<{ userId: string; sessions: Row[]; background: Row[] }> };
    expect(report.users).toHaveLength(1);
    const [user] = report.users;
    expect(user!.userId).toBe(session.getSessionContext()!.userId);
    expect(user!.sessions.map((s) => [s.sessionIndex, (s.ended as Row | null)?.reason ?? null])).toEqual([[1, 'timeout'], [2, 'backgroundTimeout'], [3, null]]);
    expect(user!.sessions[1]!.previousSessionId).toBe(user!.sessions[0]!.sessionId);
    expect((user!.sessions[0]!.events as Row[]).map((e) => e.name)).toEqual(['session_start', 'a', 'session_end']);
    expect(user!.background).toEqual([{ start: Date.UTC(2026, 0, 1, 9, 11), end: Date.UTC(2026, 0, 1, 9, 17) }]);
    expect((await (await fetch(`${collector.url}/micro/sessions?user=no-such-user`)).json())).toEqual({ users: [], usersLeftOut: 0 });
    await session.close();
  });
});

describe('-j / -t: events on stdout as they arrive, bad rows on stderr', () => {
  it.each([['--output-json'], ['-j'], ['--output-tsv'], ['-t']])('%s', async (flag) => {
    const child = await collectorProcess([flag]);
    try {
      const session = await createClientSession({ store: new MemorySessionStore() });
      const tracker = httpTracker(child.url, session);
      tracker.track(buildStructEvent({ category: 'shop', action: 'buy', value: 2 }));
      tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.example/missing/jsonschema/1-0-0', data: {} } }));
      await tracker.flush();
      await session.close();
      const good = await micro(child.url).good();
      const [line, ...more] = child.lines('stdout');
      expect(more).toEqual([]);
      if (flag.includes('j')) {
        const row = JSON.parse(line!) as Row;
        expect(row).toMatchObject({ event_id: good[0]!.event.event_id, se_action: 'buy', se_value: 2, event_name: 'event' });
        expect(row[SESSION]).toHaveLength(1);
      } else {
        const fields = line!.split('\t');
        expect(fields).toHaveLength(131);
        const at = (name: string) => fields[ENRICHED_FIELDS.indexOf(name as never)];
        expect([at('event'), at('event_id'), at('se_action'), at('se_value'), at('platform')]).toEqual(['struct', good[0]!.event.event_id, 'buy', '2.0', 'srv']);
        expect(at('collector_tstamp')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/);
        expect(JSON.parse(at('contexts')!)).toMatchObject({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [{ schema: CLIENT_SESSION_SCHEMA }] });
      }
      const badRows = child.lines('stderr').filter((l) => l.startsWith('{'));
      expect(badRows.map((l) => (JSON.parse(l) as { schema: string }).schema)).toEqual([SCHEMA_VIOLATIONS_SCHEMA]);
      expect(child.lines('stderr').some((l) => l.includes('listening on'))).toBe(true);
    } finally {
      await child.stop();
    }
  });
});
