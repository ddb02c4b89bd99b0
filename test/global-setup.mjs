// Jest's globalSetup: the processes Jest itself runs before any test (esbuild's service, which loaded
// jest.config.ts), so that global-teardown.mjs holds only what tests left running against them.
import { descendants } from './global-teardown.mjs';

export default function recordJestProcesses() {
  globalThis.processesBeforeTests = new Set(process.platform === 'linux' ? descendants() : []);
}
