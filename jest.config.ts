/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// ESM mode (lowdb and uuid are ESM-only): run with NODE_OPTIONS=--experimental-vm-modules (see `npm test`).
// ts-jest only transpiles; `npm test` type-checks with `tsc --noEmit` first.
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 30_000,
  // A child process a test left running would keep Jest from exiting: named, killed and failed instead;
  // anything else that holds Jest up fails the run 30 s after the tests.
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
};

export default config;
