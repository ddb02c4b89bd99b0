/**
 * `npm start`: a short simulated user journey through the real node-tracker with the client-session plugin
 * on a lowdb file. An injected clock makes a foreground gap, a background timeout and an app restart
 * happen in a second. Every payload is captured and validated against the vendored Iglu schemas.
 * Exits 1 if any event is invalid.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTracker, buildStructEvent, type Tracker } from '@snowplow/node-tracker';
import { createClientSession, LowdbSessionStore, type ClientSession } from '../plugin/index.js';
import { IgluValidator, type ValidationReport } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';

const MINUTE = 60_000;

interface Row {
  step: string;
  event: string;
  payload: Record<string, string>;
}

let time = Date.UTC(2026, 0, 1, 9);
const clock = { now: () => time, advance: (ms: number) => void (time += ms) };

/** One app process: a session on the shared lowdb file and a node-tracker whose requests are captured. */
async function launchApp(file: string, sent: Array<Record<string, string>>): Promise<{ tracker: Tracker; session: ClientSession }> {
  const session = await createClientSession({
    store: new LowdbSessionStore({ file }),
    foregroundTimeout: 600,
    backgroundTimeout: 300,
    now: clock.now,
  });
  const tracker = newTracker(
    { namespace: 'demo', appId: 'snowplow-client-session-demo' },
    {
      endpoint: 'http://127.0.0.1:9',
      customFetch: async (request: Request) => {
        sent.push(...((await request.json()) as { data: Array<Record<string, string>> }).data);
        return new Response(null, { status: 200 });
      },
    },
  );
  tracker.addPlugin(session);
  return { tracker, session };
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'snowplow-client-session-demo-'));
  const file = join(dir, 'client_session.json');
  const sent: Array<Record<string, string>> = [];
  const steps: Array<{ step: string; event: string }> = [];
  const track = (tracker: Tracker, step: string, event: string) => {
    steps.push({ step, event });
    tracker.track(buildStructEvent({ category: 'demo', action: event }));
  };

  let app = await launchApp(file, sent);
  track(app.tracker, 'launch', 'view_home');
  clock.advance(30_000);
  track(app.tracker, '30 s later', 'add_to_cart');
  clock.advance(11 * MINUTE);
  track(app.tracker, '11 min idle (fg timeout 10 min)', 'view_home');
  app.session.setBackground(true);
  track(app.tracker, 'app goes to background', 'background_sync');
  clock.advance(6 * MINUTE);
  track(app.tracker, '6 min in background (bg timeout 5 min)', 'background_sync');
  app.session.setBackground(false);
  await app.tracker.flush();
  await app.session.close();

  clock.advance(2 * MINUTE);
  app = await launchApp(file, sent);
  track(app.tracker, 'restart 2 min later (same file)', 'view_home');
  track(app.tracker, 'restarted app', 'checkout');
  await app.tracker.flush();
  await app.session.close();

  const validator = new IgluValidator();
  const rows: Row[] = sent.map((payload, i) => ({ ...steps[i]!, payload }));
  const reports = rows.map((row) => validator.validatePayload(row.payload));
  printTable(rows, reports);

  const invalid = reports.filter((r) => !r.valid).length;
  const unsessioned = rows.filter((row) => entity(row.payload) === undefined).length;
  console.log(`\n${rows.length} events sent, ${rows.length - invalid} valid, ${invalid} invalid, ${unsessioned} without client_session.`);
  console.log(`Session file: ${file}`);
  if (rows.length !== steps.length) console.error(`expected ${steps.length} events, captured ${rows.length}`);
  return invalid === 0 && unsessioned === 0 && rows.length === steps.length ? 0 : 1;
}

function entity(payload: Record<string, string>): Record<string, unknown> | undefined {
  const contexts = JSON.parse(Buffer.from(payload.cx ?? '', 'base64url').toString('utf8') || '{"data":[]}') as {
    data: Array<{ schema: string; data: Record<string, unknown> }>;
  };
  return contexts.data.find((e) => e.schema === CLIENT_SESSION_SCHEMA)?.data;
}

function printTable(rows: Row[], reports: ValidationReport[]): void {
  const table = rows.map((row, i) => {
    const e = entity(row.payload) ?? {};
    const report = reports[i]!;
    return {
      step: row.step,
      event: row.event,
      sessionIndex: String(e.sessionIndex ?? '-'),
      eventIndex: String(e.eventIndex ?? '-'),
      sessionId: String(e.sessionId ?? '-').slice(0, 8),
      previous: String(e.previousSessionId ?? '-').slice(0, 8),
      valid: report.valid ? 'yes' : `NO: ${report.errors.map((x) => `${x.path} ${x.message}`).join('; ')}`,
    };
  });
  const columns = Object.keys(table[0] ?? {}) as Array<keyof (typeof table)[number]>;
  const widths = columns.map((c) => Math.max(c.length, ...table.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(columns.map((c) => row[c])));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('demo failed:', error);
    process.exit(2);
  },
);
