// One jest run over every package. Sources are TypeScript ES modules, transformed by swc
// (no type-check here: `tsc -b` and tsconfig.tests.json do that before jest runs).
/** @type {import('jest').Config} */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }];
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    // Workspace packages are tested from source, so a test never runs against a stale build.
    '^@exalate/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    // NodeNext requires `.js` in relative imports; jest resolves the `.ts` file behind it.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts'],
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
  // Each suite starts real servers and databases; two workers fit the 2-core CI machine.
  maxWorkers: 2,
  globalSetup: '<rootDir>/scripts/jest-postgres.js',
  globalTeardown: '<rootDir>/scripts/jest-postgres-teardown.js',
};
