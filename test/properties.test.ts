import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildStructEvent, trackerCore } from '@snowplow/tracker-core';
import fc from 'fast-check';
import { createClientSession, LowdbSessionStore, type ClientSessionEntity } from '../plugin/index.js';
import { IgluValidator } from '../plugin/iglu/index.js';
import { CLIENT_SESSION_SCHEMA } from '../plugin/schema-uris.js';
import { manualClock, sessionOf, withTempDir } from './helpers/capture.js';

type Command =
  | { kind: 'track'; count: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'background' | 'foreground' | 'newSession' | 'restart' }
  | { kind: 'corrupt'; how: 'truncate' | 'wrongType' | 'garbage' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('track' as const), count: fc.integer({ min: 1, max: 5 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      // short gaps, gaps around both timeouts, and the clock going backwards
      ms: fc.oneof(fc.integer({ min: 0, max: 120_000 }), fc.integer({ min: 290_000, max: 700_000 }), fc.integer({ min: -5_000, max: 0 })),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom<Command>({ kind: 'background' }, { kind: 'foreground' }, { kind: 'newSession' }, { kind: 'restart' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('corrupt' as const), how: fc.constantFrom('truncate' as const, 'wrongType' as const, 'garbage' as const) }) },
);

const silent = { warn: () => undefined, error: () => undefined };
const validator = new IgluValidator();

/**
 * Corruptions that leave the default session's userId, sessionId and sessionIndex legible (what the store
 * salvages); a file with nothing legible loses the identity by definition (see the corrupt-store tests).
 */
async function corrupt(file: string, how: 'truncate' | 'wrongType' | 'garbage'): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null || !text.includes('"eventIndex"')) return; // nothing written yet
  if (how === 'truncate') await writeFile(file, text.slice(0, text.indexOf('"eventIndex"') + 5));
  if (how === 'garbage') await writeFile(file, `${text}}{\u0000garbage`);
  if (how === 'wrongType') {
    const data = JSON.parse(text);
    data.session.eventIndex = 'x';
    await writeFile(file, JSON.stringify(data));
  }
}

async function run(commands: Command[]): Promise<ClientSessionEntity[]> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'client_session.json');
    const clock = manualClock();
    const entities: ClientSessionEntity[] = [];
    const open = async () => {
      const session = await createClientSession({ store: new LowdbSessionStore({ file, logger: silent }), logger: silent, now: clock.now, checkInterval: 0 });
      const core = trackerCore({ corePlugins: [session.plugin], callback: (pb) => void entities.push(sessionOf(pb.build() as Record<string, string>)) });
      return { session, core };
    };
    let app = await open();
    for (const c of commands) {
      if (c.kind === 'track') for (let i = 0; i < c.count; i++) app.core.track(buildStructEvent({ category: 'p', action: 't' }));
      else if (c.kind === 'advance') clock.advance(c.ms);
      else if (c.kind === 'background' || c.kind === 'foreground') app.session.setBackground(c.kind === 'background');
      else if (c.kind === 'newSession') app.session.startNewSession();
      else {
        await app.session.close();
        if (c.kind === 'corrupt') await corrupt(file, c.how);
        app = await open();
      }
    }
    await app.session.close();
    return entities;
  });
}

describe('properties (fast-check, real lowdb files)', () => {
  it('keep the session invariants over random journeys with restarts and corrupt files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
        const entities = await run(commands);
        for (const entity of entities) expect(validator.validateData(CLIENT_SESSION_SCHEMA, entity).errors).toEqual([]);
        expect(new Set(entities.map((e) => e.userId)).size).toBeLessThanOrEqual(1); // userId never changes for a store
        const sessions: ClientSessionEntity[] = [];
        const lastIndex = new Map<string, number>();
        for (const e of entities) {
          const previous = lastIndex.get(e.sessionId);
          if (previous === undefined) sessions.push(e);
          else expect(e.eventIndex!).toBeGreaterThan(previous); // strictly increasing inside a session
          lastIndex.set(e.sessionId, e.eventIndex!);
        }
        sessions.forEach((s, i) => {
          expect(s.previousSessionId).toBe(i === 0 ? null : sessions[i - 1]!.sessionId); // one chain per user
          if (i > 0) expect(s.sessionIndex).toBeGreaterThan(sessions[i - 1]!.sessionIndex); // strictly increasing
        });
      }),
      { numRuns: 60 },
    );
  });
});
