// Every shell example (```sh) in the README and docs/ runs as written, from a copy of this repository's
// layout, and ends as its comment says (`# exits 1`; otherwise 0). Commands that serve (the collector,
// `--serve`; not `collector wait`, which waits and exits) must start and stop on Ctrl-C; they get a free port instead of 9090 (another run may hold it),
// and `localhost:9090` in an example is a collector this test starts. A block preceded by
// `<!-- examples-test: skip: <why> (test/<file>) -->` is left to the test it names.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCollector, type RunningCollector } from '../plugin/collector/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
/** A command that serves prints one of these once it is up. */
const UP = /listening on|The collector's UI/;
/** A finished command's bound: a build after a source change (about 10 s on 2 busy cores) and its run. */
const COMMAND_MS = 60_000;

interface Example {
  doc: string;
  line: number;
  command: string;
  exitCode: number;
  serves: boolean;
}

/** The commands of each ```sh block: continued lines joined, the trailing comment read for `exits N`. */
function examples(): { run: Example[]; skipped: Array<{ doc: string; reason: string }> } {
  const run: Example[] = [];
  const skipped: Array<{ doc: string; reason: string }> = [];
  for (const doc of DOCS) {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    for (const block of text.matchAll(/(?:<!-- examples-test: skip: ([^\n]*?) -->\n)?```sh\n([\s\S]*?)```/g)) {
      if (block[1] !== undefined) {
        skipped.push({ doc, reason: block[1] });
        continue;
      }
      const firstLine = text.slice(0, block.index).split('\n').length + 1;
      let pending = '';
      block[2]!.split('\n').forEach((line, i) => {
        pending += (pending === '' ? '' : '\n') + line;
        const { command, comment, open } = splitComment(pending);
        if (open || command.endsWith('\\')) return; // a quoted string or a line that goes on
        pending = '';
        if (command === '') return;
        const serves = /\brun (--silent )?collector\b|\bsnowplow-collector\b|--serve\b/.test(command) && !/\s(-h|--help)\b|\bcollector( --)? wait\b/.test(command);
        run.push({ doc, line: firstLine + i, command, exitCode: Number(/\bexits (\d)/.exec(comment)?.[1] ?? 0), serves });
      });
    }
  }
  return { run, skipped };
}

/** `cmd   # note` → the command and the note (a `#` inside quotes is the command's); `open`: a quote is not closed yet. */
function splitComment(text: string): { command: string; comment: string; open: boolean } {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      if (end === -1) return { command: text.slice(0, i).trim(), comment: text.slice(i + 1), open: false };
      i = end; // a comment on an inner line of a quoted command ends at its line
    }
  }
  return { command: text.trim(), comment: '', open: quote !== null };
}

let workspace: string;
let collector: RunningCollector;

beforeAll(async () => {
  // The repository's layout, with a folder of its own for what examples write (`> events.ndjson`).
  workspace = await mkdtemp(join(tmpdir(), 'docs-examples-'));
  for (const entry of ['node_modules', 'dist', 'schemas', 'scripts', 'plugin', 'examples', 'tsconfig.json', 'tsconfig.build.json']) {
    await symlink(join(ROOT, entry), join(workspace, entry));
  }
  await copyFile(join(ROOT, 'package.json'), join(workspace, 'package.json'));
  collector = await startCollector({ port: 0 });
  // Something for the query examples to find.
  await fetch(`${collector.url}/com.snowplowanalytics.snowplow/tp2`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', tv: 'node-4.8.0', p: 'srv', aid: 'myapp' }] }),
  });
});

afterAll(async () => {
  await collector?.close();
  await rm(workspace, { recursive: true, force: true });
});

function shell(command: string) {
  const child = spawn('bash', ['-c', command], { cwd: workspace, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => ((output += d.toString()), (stdout += d.toString())));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, output: () => output, stdout: () => stdout, exited };
}

/** Whether a serving command printed that it is up, before the bound or its exit. */
function serving(child: ReturnType<typeof spawn>, output: () => string, exited: Promise<unknown>): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), COMMAND_MS);
    const check = () => {
      if (!UP.test(output())) return;
      clearTimeout(timer);
      resolve(true);
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(UP.test(output()));
    });
  });
}

const { run, skipped } = examples();

describe('the shell examples of the README and docs/', () => {
  it('finds them, and every skipped block names the test that covers it', () => {
    expect(run.length).toBeGreaterThanOrEqual(10);
    // Shell examples are fenced as ```sh, so this test sees every one.
    const otherShells = DOCS.filter((doc) => /```(bash|shell|console|zsh)\n/.test(readFileSync(join(ROOT, doc), 'utf8')));
    expect(otherShells).toEqual([]);
    for (const { doc, reason } of skipped) {
      const test = /\((test\/[\w.-]+\.test\.ts)\)/.exec(reason)?.[1];
      expect([doc, test !== undefined && existsSync(join(ROOT, test))]).toEqual([doc, true]);
    }
  });

  it.each(run.map((example) => [`${example.doc}:${example.line}: ${example.command.split('\n')[0]}`, example] as const))(
    '%s',
    async (_name, example) => {
      const command = example.command.replace(/localhost:9090/g, collector.url.replace('http://', '')).replace(/--port 9090/g, '--port 0');
      const { child, output, stdout, exited } = shell(example.serves && !/--port/.test(command) ? `${command} --port 0` : command);
      let done = false;
      void exited.then(() => (done = true));
      try {
        if (!example.serves) {
          const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), COMMAND_MS).unref())]);
          expect([code, output()]).toEqual([example.exitCode, expect.any(String)]);
          // What is printed as JSON (`--json`, the API) parses: no npm banner or log line in the way.
          if (/--json|curl/.test(command) && !/>/.test(command)) expect(() => JSON.parse(stdout())).not.toThrow();
          return;
        }
        // A command that serves: up within the bound, then stopped with Ctrl-C (its process group).
        expect([await serving(child, output, exited), output()]).toEqual([true, expect.any(String)]);
        process.kill(-child.pid!, 'SIGINT');
        await exited;
      } finally {
        if (!done) process.kill(-child.pid!, 'SIGKILL'); // nothing outlives its test
      }
    },
    COMMAND_MS + 10_000,
  );
});
