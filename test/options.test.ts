// Option checking that catches the mistakes people make (issue 17, item 3): typos, milliseconds given as
// seconds, and type errors that name what was given.
import { describe, expect, it } from '@jest/globals';
import { createClientSession, MemorySessionStore, type ClientSessionOptions } from '../plugin/index.js';
import { recordingLogger } from './helpers/capture.js';

const create = (options: unknown) => createClientSession({ store: new MemorySessionStore(), checkInterval: 0, ...(options as ClientSessionOptions) });

describe('option checking', () => {
  it('an unknown option is an error with a "did you mean" for a typo', async () => {
    await expect(create({ foregroundTimout: 5 })).rejects.toThrow(/createClientSession option `foregroundTimout` is not an option; did you mean `foregroundTimeout`\?/);
    await expect(create({ sesionEvents: true })).rejects.toThrow(/did you mean `sessionEvents`/);
    await expect(create({ somethingElse: 1 })).rejects.toThrow(/`somethingElse` is not an option \(options: store, foregroundTimeout/);
  });

  it('a timeout of a day or more warns once that timeouts are seconds, not milliseconds', async () => {
    const logger = recordingLogger();
    const session = await create({ foregroundTimeout: 600_000, logger });
    expect(logger.warnings).toEqual(['snowplow-client-session: createClientSession option `foregroundTimeout` is 600000 seconds (6.9 days): timeouts are in seconds, not milliseconds']);
    await session.close();
  });

  it('type errors name what was given: null and arrays are not "object"', async () => {
    await expect(createClientSession(null as unknown as ClientSessionOptions)).rejects.toThrow(/expects an options object, got null/);
    await expect(createClientSession([] as unknown as ClientSessionOptions)).rejects.toThrow(/expects an options object, got array/);
    await expect(create({ sessionKey: null })).rejects.toThrow(/`sessionKey` must be a function, got null/);
    await expect(create({ foregroundTimeout: null })).rejects.toThrow(/`foregroundTimeout` must be a number of seconds, got null/);
    await expect(create({ anonymous: [] })).rejects.toThrow(/`anonymous` must be true or false, got array/);
  });
});
