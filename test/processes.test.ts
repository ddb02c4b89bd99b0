import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { withTempDir } from './helpers/capture.js';
import { kill, startApp } from './helpers/processes.js';

const KILLS = 25;
/** One process start on a busy 2-core machine, generously: the test's time limit is derived from its work. */
const START_MS = 10_000;

describe('crash safety (real processes, SIGKILL)', () => {
  it(`survives ${KILLS} kills at random moments: the file parses, the session continues, no eventIndex repeats`, () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const log = join(dir, 'emitted.log');
      for (let kills = 0; kills < KILLS; kills++) {
        const app = await startApp(['track', file, log]);
        expect(app.firstLine).toBe('ready');
        // The kill moment is what is random here; no time-based behaviour is being waited for.
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 120));
        await kill(app);
        expect(() => JSON.parse(readFileSync(file, 'utf8'))).not.toThrow();
      }
      const lines = readFileSync(log, 'utf8').split('\n').filter((line) => /^\S+ \S+ \d+$/.test(line));
      const emitted = lines.map((line) => line.split(' ') as [string, string, string]);
      expect(emitted.length).toBeGreaterThan(KILLS);
      expect(new Set(emitted.map(([userId]) => userId)).size).toBe(1); // one identity for the store
      expect(new Set(emitted.map(([, sessionId]) => sessionId)).size).toBe(1); // always within the timeout
      const indexes = emitted.map(([, , index]) => Number(index));
      expect(new Set(indexes).size).toBe(indexes.length); // no eventIndex emitted twice
    }), KILLS * START_MS);
});

describe('two processes, one file (real processes)', () => {
  it("refuses the second process with the holder's name, and takes over a killed holder's lock", () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'client_session.json');
      const holder = await startApp(['hold', file]);
      expect(holder.firstLine).toBe('ready');
      const second = await startApp(['hold', file]);
      const [generation] = readdirSync(`${file}.lock`);
      expect(second.firstLine).toBe(
        `error SessionStoreLockedError: snowplow-client-session: the session file ${file} is in use by process ${holder.child.pid} on ${hostname()} ` +
          `(since ${JSON.parse(readFileSync(join(`${file}.lock`, generation!), 'utf8')).since}); lock ${file}.lock. ` +
          'Give each process its own file, or share sessions through a RedisSessionStore.',
      );
      expect(await second.exited).toBe(3);
      await kill(holder);
      const third = await startApp(['hold', file]); // the lock of a dead process does not block
      expect(third.firstLine).toBe('ready');
      await kill(third);
    }), 3 * START_MS);
});
