// The demo (`npm start`) as a newcomer runs it: it prints the journey the README shows and leaves nothing behind.
import { execFile, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from '@jest/globals';
import { withTempDir } from './helpers/capture.js';

const run = promisify(execFile);
const DEMO = fileURLToPath(new URL('../dist/scripts/demo.js', import.meta.url));

it('prints the README\'s table (every event good) and removes its temp folder', () =>
  withTempDir(async (dir) => {
    const { stdout } = await run(process.execPath, [DEMO], { env: { ...process.env, TMPDIR: dir }, timeout: 60_000 });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^step\s+event\s+sessionIndex\s+eventIndex\s+sessionId\s+previous\s+collector$/);
    expect(lines[1]).toMatch(/^-+(\s+-+){6}$/);
    expect(lines.slice(2, 10).map((l) => l.split(/\s{2,}/).slice(-5, -3).concat(l.split(/\s{2,}/).at(-1)!))).toEqual([
      ['1', '1', 'good'],
      ['1', '2', 'good'],
      ['2', '1', 'good'],
      ['2', '2', 'good'],
      ['3', '1', 'good'],
      ['3', '2', 'good'],
      ['3', '3', 'good'],
      ['3', '4', 'good'],
    ]);
    // 3 session_start and 2 session_end events: the foreground timeout, then the background timeout.
    expect(lines.at(-1)).toMatch(/^8 events and 5 session_start\/session_end events sent to the embedded collector at http:\/\/127\.0\.0\.1:\d+: 13 good, 0 bad\.$/);
    expect(await readdir(dir)).toEqual([]); // no snowplow-client-session-demo-* folder left
  }));

it('--serve keeps the collector up with its UI until interrupted', () =>
  withTempDir(async (dir) => {
    const child = spawn(process.execPath, [DEMO, '--serve', '--port', '0'], { env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let printed = '';
    const ui = await new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        printed += d;
        const match = /The collector's UI: (\S+)/.exec(printed);
        if (match !== null) resolve(match[1]!);
      });
      void exited.then((code) => reject(new Error(`the demo exited (${code}) before serving: ${printed}`)));
    });
    expect(ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/micro\/ui$/);
    const page = await fetch(ui);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await (await fetch(ui.replace('/micro/ui', '/micro/all'))).json()).toEqual({ total: 13, good: 13, bad: 0 });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  }));
