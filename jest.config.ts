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
};

export default config;
