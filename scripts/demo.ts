#!/usr/bin/env node
/**
 * `npm start`: a short simulated user journey through the real node-tracker with the client-session plugin
 * on a lowdb file, sent over HTTP to a Snowplow-Micro-compatible collector (the embedded one, or
 * `--collector <url>`). An injected clock makes a foreground gap, a background timeout and an app restart
 * happen in a second. Exits 1 if any event is bad or missing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSelfDescribingEvent, buildStructEvent, newTracker, type PayloadBuilder, type Tracker } from '@snowplow/node-tracker';
import { startCollector, type GoodEvent, type RunningCollector } from '../plugin/collector/index.js';
import { createClientSession, LowdbSessionStore, type ClientSession } from '../plugin/index.js';
import { APPLICATION_BACKGROUND_SCHEMA, APPLICATION_FOREGROUND_SCHEMA, CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { EXIT, UsageError, parseCommandLine, runCommand } from './lib/cli.js';

const USAGE = `Usage: npm start [-- --serve [--port <n>] | --collector <url>]

Runs a simulated user journey through the real node-tracker and the client-session plugin, sends it to a
validating collector over HTTP and prints one row per event. Without --collector it starts the embedded
collector on a free port; with it, events go to that collector (Snowplow Micro or this package's).

Options:
  --serve          keep the embedded collector running after the journey and print its web UI's address
                   (events, failed events, session timelines) until Ctrl-C
  --port <n>       the embedded collector's port with --serve (default 9090, or a free one if 9090 is taken)
  --collector <u>  send to this collector instead of the embedded one
  -h, --help       this text

Exit codes: 0 every event good, 1 a bad or missing event, 2 usage error or the collector cannot be reached.`;

const MINUTE = 60_000;

interface Step {
  step: string;
  action: string;
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(process.argv.slice(2), {
    collector: { type: 'string' },
    serve: { type: 'boolean' },
    port: { type: 'string' },
  }, { most: 0 });
  const serve = values.serve === true;
  if (serve && values.collector !== undefined) throw new UsageError('--serve keeps the embedded collector up: it cannot be used with --collector');
  if (values.port !== undefined && !serve) throw new UsageError('--port is the embedded collector\'s port with --serve');
  const embedded = values.collector === undefined ? await startEmbedded(serve, values.port as string | undefined) : null;
  const endpoint = ((values.collector as string | undefined) ?? embedded!.url).replace(/\/+$/, '');
  try {
    const code = await runJourney(endpoint, embedded === null ? `collector at ${endpoint}` : `embedded collector at ${endpoint}`);
    if (serve) await serveUntilStopped(endpoint);
    return code;
  } finally {
    await embedded?.close();
  }
}

/** The embedded collector: on a free port, or with --serve on --port (9090 unless that is taken). */
async function startEmbedded(serve: boolean, port: string | undefined): Promise<RunningCollector> {
  if (!serve) return startCollector({ port: 0 });
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) > 65535) throw new UsageError(`--port must be a port number, got ${port}`);
    return startCollector({ port: Number(port) });
  }
  return startCollector({ port: 9090 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') return startCollector({ port: 0 });
    throw error;
  });
}

async function serveUntilStopped(endpoint: string): Promise<void> {
  console.log(`\nThe collector's UI: ${endpoint}/micro/ui  (sessions: ${endpoint}/micro/ui#sessions)`);
  console.log(`Trackers can send to ${endpoint} too. Ctrl-C stops the collector.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

async function runJourney(endpoint: string, where: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'snowplow-client-session-demo-'));
  try {
    return await journey(endpoint, where, join(dir, 'client_session.json'));
  } finally {
    await rm(dir, { recursive: true, force: true }); // the session file lives only as long as the demo
  }
}

async function journey(endpoint: string, where: string, file: string): Promise<number> {
  const before = await microAll(endpoint);
  let time = Date.UTC(2026, 0, 1, 9);
  const clock = { now: () => time, advance: (ms: number) => void (time += ms) };
  const steps = new Map<string, Step>(); // by event id
  // A unique run id in every event, so the rows can be found among a shared collector's other events.
  const run = `demo-${process.pid}-${Date.now()}`;

  const launch = async (): Promise<{ tracker: Tracker; session: ClientSession }> => {
    const store = new LowdbSessionStore({ file });
    const session = await createClientSession({ store, foregroundTimeout: 600, backgroundTimeout: 300, sessionEvents: true, now: clock.now });
    const tracker = newTracker({ namespace: 'demo', appId: 'snowplow-client-session-demo' }, { endpoint });
    tracker.addPlugin(session);
    return { tracker, session };
  };
  const track = (tracker: Tracker, step: string, action: string, event?: PayloadBuilder) => {
    // Dated by the demo's clock, as a real app's events are by the real one.
    const payload = tracker.track(event ?? buildStructEvent({ category: 'demo', action, label: run }), null, clock.now());
    if (payload?.eid !== undefined) steps.set(String(payload.eid), { step, action });
  };
  const selfDescribing = (tracker: Tracker, step: string, schema: string, data: Record<string, unknown>) =>
    track(tracker, step, schema.split('/')[1]!, buildSelfDescribingEvent({ event: { schema, data } }));

  let app = await launch();
  track(app.tracker, 'launch', 'view_home');
  clock.advance(30_000);
  track(app.tracker, '30 s later', 'add_to_cart');
  clock.advance(11 * MINUTE);
  track(app.tracker, '11 min idle (fg timeout 10 min)', 'view_home');
  selfDescribing(app.tracker, 'app goes to background', APPLICATION_BACKGROUND_SCHEMA, { backgroundIndex: 1 });
  clock.advance(6 * MINUTE);
  track(app.tracker, '6 min in background (bg timeout 5 min)', 'background_sync');
  clock.advance(MINUTE);
  selfDescribing(app.tracker, 'back in the foreground 1 min later', APPLICATION_FOREGROUND_SCHEMA, { foregroundIndex: 1 });
  await app.tracker.flush();
  await app.session.close();

  clock.advance(2 * MINUTE);
  app = await launch();
  track(app.tracker, 'restart 2 min later (same file)', 'view_home');
  track(app.tracker, 'restarted app', 'checkout');
  await app.tracker.flush();
  await app.session.close();

  const after = await microAll(endpoint);
  const good = (await microGood(endpoint)).filter((e) => steps.has(String(e.event.event_id)));
  printTable(steps, new Map(good.map((e) => [String(e.event.event_id), e])));
  const goodCount = after.good - before.good;
  const badCount = after.bad - before.bad;
  const missing = steps.size - good.length;
  const lifecycleEvents = goodCount + badCount - steps.size;
  console.log(
    `\n${steps.size} events and ${lifecycleEvents} session_start/session_end events sent to the ${where}: ${goodCount} good, ${badCount} bad${missing > 0 ? `, ${missing} not found in /micro/good` : ''}.`,
  );
  return badCount === 0 && missing === 0 ? EXIT.ok : EXIT.invalid;
}

function printTable(steps: Map<string, Step>, good: Map<string, GoodEvent>): void {
  const rows = [...steps].map(([eid, { step, action }]) => {
    const event = good.get(eid);
    const contexts = (event?.event.contexts ?? { data: [] }) as { data: Array<{ schema: string; data: Record<string, unknown> }> };
    const e = contexts.data.find((entity) => entity.schema === CLIENT_SESSION_SCHEMA)?.data ?? {};
    return {
      step,
      event: action,
      sessionIndex: String(e.sessionIndex ?? '-'),
      eventIndex: String(e.eventIndex ?? '-'),
      sessionId: String(e.sessionId ?? '-').slice(0, 8),
      previous: String(e.previousSessionId ?? '-').slice(0, 8),
      collector: event === undefined ? 'NOT GOOD' : 'good',
    };
  });
  const columns = Object.keys(rows[0] ?? {}) as Array<keyof (typeof rows)[number]>;
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => row[c])));
}

async function microAll(endpoint: string): Promise<{ good: number; bad: number }> {
  return (await request(endpoint, '/micro/all')) as { good: number; bad: number };
}

async function microGood(endpoint: string): Promise<GoodEvent[]> {
  return (await request(endpoint, '/micro/good')) as GoodEvent[];
}

async function request(endpoint: string, path: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${endpoint}${path}`);
  } catch (error) {
    throw new Error(`cannot reach the collector at ${endpoint}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  if (!response.ok) throw new Error(`the collector at ${endpoint} answered ${path} with HTTP ${response.status}: is it Snowplow Micro?`);
  return response.json();
}

runCommand('demo', USAGE, main);
