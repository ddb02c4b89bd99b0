// The demo (`npm start`) as a newcomer runs it: it prints the journey the README shows and leaves nothing behind.
import { execFile } from 'node:child_process';
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
    expect(lines.slice(2, 9).map((l) => l.split(/\s{2,}/).slice(-5, -3).concat(l.split(/\s{2,}/).at(-1)!))).toEqual([
      ['1', '1', 'good'],
      ['1', '2', 'good'],
      ['2', '1', 'good'],
      ['2', '2', 'good'],
      ['3', '1', 'good'],
      ['3', '2', 'good'],
      ['3', '3', 'good'],
    ]);
    expect(lines.at(-1)).toMatch(/^7 events sent to the embedded collector at http:\/\/127\.0\.0\.1:\d+: 7 good, 0 bad\.$/);
    expect(await readdir(dir)).toEqual([]); // no snowplow-client-session-demo-* folder left
  }));
