/** `snowplow-collector wait`: waits for events on a running collector (`POST /micro/wait`), for shell-based CI. */
import { describe } from '../plugin/collector/event-match.js';
import { describeMiss, type ClosestEvent, type FailedEventReport } from '../plugin/collector/wait-report.js';
import { EXIT, UsageError, parseCommandLine } from './lib/cli.js';

export const WAIT_USAGE = `Usage: npx snowplow-collector wait [options]   (in this repository: npm run collector -- wait [options])

Waits until events matching a query have reached a running collector (this package's: POST /micro/wait),
without polling. When the time runs out it prints the closest events (what differs) and the failed
events with their errors.

Options:
  --url <url>       the collector (default http://127.0.0.1:9090)
  --query <json>    what to wait for, e.g. '{"schema": "iglu:com.acme/checkout/jsonschema", "app_id": "shop"}':
                    schema, contexts, data, headers, and atomic fields by their Micro names (app_id,
                    event_name, se_action, user_id, …); default {}: any good event
  --count <n>       how many matching good events (default 1)
  --timeout <ms>    how long to wait (default 10000, at most 600000)
  --since <time>    only events that arrived at or after this time (ISO 8601, or ms since the epoch)
  --json            print the collector's answer: {"events": [...]} or, on a timeout, {"closest", "bad", "found"}
  -h, --help        this text

Exit codes: 0 the events arrived, 1 the time ran out, 2 a usage error or the collector cannot be reached.`;

const DEFAULT_TIMEOUT_MS = 10_000;
/** What the HTTP request may take beyond the wait itself (connecting, answering). */
const REQUEST_SLACK_MS = 10_000;

export async function waitCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, {
    url: { type: 'string' },
    query: { type: 'string' },
    count: { type: 'string' },
    timeout: { type: 'string' },
    since: { type: 'string' },
    json: { type: 'boolean' },
  }, { most: 0 });
  const url = String(values.url ?? 'http://127.0.0.1:9090').replace(/\/+$/, '');
  if (!URL.canParse(url)) throw new UsageError(`--url must be a URL such as http://127.0.0.1:9090, got ${url}`);
  const query = parseQuery(values.query as string | undefined);
  const count = whole(values.count, '--count') ?? 1;
  const timeout = whole(values.timeout, '--timeout') ?? DEFAULT_TIMEOUT_MS;
  const since = values.since === undefined ? undefined : /^\d+$/.test(String(values.since)) ? Number(values.since) : values.since;

  const response = await fetch(`${url}/micro/wait`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query, count, timeout, since }),
    signal: AbortSignal.timeout(timeout + REQUEST_SLACK_MS),
  }).catch((error: Error) => {
    const cause = (error.cause as { code?: string; message?: string } | undefined) ?? {};
    const why = error.name === 'TimeoutError' ? `no answer within ${timeout + REQUEST_SLACK_MS} ms` : (cause.code ?? cause.message ?? error.message);
    throw new Error(`cannot reach the collector at ${url}: ${why}`);
  });
  const text = await response.text();
  if (response.status === 400) throw new UsageError(`the collector refused the query: ${errorOf(text)}`);
  if (response.status !== 200 && response.status !== 408) throw new Error(`${url}/micro/wait answered HTTP ${response.status}: ${errorOf(text)} (is it this package's collector?)`);
  if (values.json === true) process.stdout.write(`${text}\n`);
  if (response.status === 200) {
    const { events } = JSON.parse(text) as { events: unknown[] };
    if (values.json !== true) process.stdout.write(`${events.length} ${events.length === 1 ? 'event' : 'events'} matching ${describe(query)} arrived.\n`);
    return EXIT.ok;
  }
  const miss = JSON.parse(text) as { closest: ClosestEvent[]; bad: FailedEventReport[]; found: number };
  if (values.json !== true) process.stderr.write(`collector wait: timed out. ${describeMiss({ query: describe(query), count, timeout, ...miss })}\n`);
  return EXIT.invalid;
}

function parseQuery(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--query must be JSON such as '{"app_id": "shop"}': ${(error as Error).message}`);
  }
}

function whole(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(String(value))) throw new UsageError(`${flag} must be a whole number, got ${String(value)}`);
  return Number(value);
}

function errorOf(text: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    return text.slice(0, 200);
  }
}
