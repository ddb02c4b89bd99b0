#!/usr/bin/env node
/** `snowplow-collector [--port 9090] [--host 127.0.0.1] [--schemas dir]...`: a Snowplow-Micro-compatible collector. */
import { startCollector } from '../plugin/collector/index.js';
import { WAIT_USAGE, waitCommand } from './collector-wait.js';
import { EXIT, UsageError, checkFolders, parseCommandLine, runCommand } from './lib/cli.js';
import { enrichOptionsOf } from './lib/enrich-options.js';
import { resolverConfigOf } from './lib/resolver-option.js';

const USAGE = `Usage: npm run collector -- [options]

A validating collector with Snowplow Micro's API. Trackers send to <url>/com.snowplowanalytics.snowplow/tp2
(POST) or <url>/i (GET); tests read /micro/all, /micro/good, /micro/bad, /micro/reset and /micro/events
(POST: filters, paging); the web UI (events, failed events' errors, session timelines) is at <url>/micro/ui.

Options:
  --port <n>             port to listen on (default 9090; 0 picks a free one)
  --host <host>          address to bind (default 127.0.0.1: this machine only)
  --schemas <dir>        a static Iglu repository searched before this package's schemas/ (repeatable)
  --resolver <file>      an Iglu resolver configuration (resolver-config 1-0-0..1-0-3): embedded and HTTP
                         repositories (Iglu Server with apikey) searched after the vendored schemas
                         MICRO_IGLU_REGISTRY_URL / MICRO_IGLU_API_KEY add a registry, as in Snowplow Micro
  --max-body-bytes <n>   larger request bodies get 413 (default 1048576)
  --max-events <n>       good and bad events kept each, oldest dropped first (default 100000)
  --max-bytes <n>        characters of stored event JSON kept in all, oldest dropped first (default 268435456)
  --allow-origin <url>   an origin whose pages may call /micro/* (repeatable; default none: only
                         requests without an Origin header or from the collector's own origin)
  --keep-secret-headers  keep Cookie, Authorization and the like in stored events (default: redacted)
  -j, --output-json      print each good event to stdout as it arrives, one Analytics SDK JSON per line;
                         bad rows go to stderr, one JSON per line (as Snowplow Micro's --output-json)
  -t, --output-tsv       the same with each good event as an enriched TSV line (Micro's --output-tsv)
  --config <file>        Micro's configuration file, written as JSON: Enrich's maxJsonDepth,
                         validation.atomicFieldsLimits and acceptInvalid, and the collector's custom paths
  --max-json-depth <n>   Enrich's maxJsonDepth: deeper co/cx/ue_pr/ue_px JSON fails (default 40, at most 500)
  --accept-invalid       Enrich's acceptInvalid: events with atomic fields over their limits are good
  -h, --help             this text

Runs until interrupted (Ctrl-C). Exit codes: 0 stopped, 2 usage error or the port cannot be used.

npm run collector -- wait [options] waits for events on a running collector (see wait --help).`;

async function main(): Promise<number> {
  const { values } = parseCommandLine(process.argv.slice(2), {
    port: { type: 'string' },
    host: { type: 'string' },
    schemas: { type: 'string', multiple: true },
    resolver: { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'max-events': { type: 'string' },
    'max-bytes': { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
    'keep-secret-headers': { type: 'boolean' },
    'output-json': { type: 'boolean', short: 'j' },
    'output-tsv': { type: 'boolean', short: 't' },
    config: { type: 'string' },
    'max-json-depth': { type: 'string' },
    'accept-invalid': { type: 'boolean' },
  }, { most: 0 });
  if (values['output-json'] === true && values['output-tsv'] === true) throw new UsageError('choose one of --output-json and --output-tsv');
  const output = values['output-json'] === true ? 'json' : values['output-tsv'] === true ? 'tsv' : undefined;
  // With an output format, stdout carries events only: the collector's own messages go to stderr, as Micro's logs do.
  const say = (line: string) => (output === undefined ? process.stdout : process.stderr).write(`${line}\n`);
  const schemas = values.schemas as string[] | undefined;
  await checkFolders('--schemas', schemas ?? []);
  const resolverConfig = await resolverConfigOf(values.resolver as string | undefined, process.env);
  const collector = await startCollector({
    ...(await enrichOptionsOf(values)),
    resolverConfig,
    port: integer(values.port, '--port'),
    host: values.host as string | undefined,
    schemas,
    maxBodyBytes: integer(values['max-body-bytes'], '--max-body-bytes'),
    maxEvents: integer(values['max-events'], '--max-events'),
    maxBytes: integer(values['max-bytes'], '--max-bytes'),
    allowOrigins: values['allow-origin'] as string[] | undefined,
    keepSecretHeaders: values['keep-secret-headers'] === true,
    output,
  }).catch((error: Error) => {
    throw error instanceof RangeError ? new UsageError(error.message) : error;
  });
  say(`Collector listening on ${collector.url} (send to ${collector.url}/com.snowplowanalytics.snowplow/tp2)`);
  say(`Web UI: ${collector.url}/micro/ui`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const { good, bad } = collector.counts();
  await collector.close();
  say(`Stopped: ${good} good, ${bad} bad events.`);
  return EXIT.ok;
}

function integer(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(String(value))) throw new UsageError(`${flag} must be a whole number, got ${String(value)}`);
  return Number(value);
}

if (process.argv[2] === 'wait') runCommand('collector wait', WAIT_USAGE, () => waitCommand(process.argv.slice(3)));
else runCommand('collector', USAGE, main);
