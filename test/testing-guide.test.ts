// docs/testing.md: its examples are the files in examples/testing/ (test/package.test.ts runs the Jest,
// Vitest and node:test ones from the packed tarball); the browser example runs here, in Chromium.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT } from './helpers/packed-app.js';
import { runNode } from './helpers/runner-cases.js';

const EXAMPLES = join(ROOT, 'examples', 'testing');

describe('docs/testing.md', () => {
  it('shows every example file as it is run', async () => {
    const guide = await readFile(join(ROOT, 'docs', 'testing.md'), 'utf8');
    for (const file of ['jest.test.mjs', 'vitest.test.mjs', 'node.test.mjs', 'browser.test.mjs']) {
      expect({ file, shown: guide.includes(`\`\`\`js\n${await readFile(join(EXAMPLES, file), 'utf8')}\`\`\``) }).toEqual({ file, shown: true });
    }
  });

  it('the browser example: Playwright clicks in Chromium, and the event is waited for by its test\'s header', async () => {
    // From this repository: the example imports the package by its name (Node's self-reference) and playwright-core.
    const { code, stdout, stderr } = await runNode(ROOT, ['--test', '--test-reporter=spec', join(EXAMPLES, 'browser.test.mjs')]);
    expect({ code, stdout, stderr }).toMatchObject({ code: 0, stdout: expect.stringContaining('pass 1') });
  }, 60_000);
});
