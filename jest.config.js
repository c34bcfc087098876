// @ts-check
// swc strips types only (tsc does the checking in `npm run typecheck`); TypeORM needs legacy decorators + metadata.
/** @type {import('jest').Config['transform']} */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
      },
      module: { type: 'commonjs' },
    },
  ],
};

/** Options every project shares (per-project options: each project gets its own copy). */
const shared = {
  testEnvironment: 'node',
  transform,
  modulePathIgnorePatterns: ['<rootDir>/.cache/'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      // Pure logic, in process: no stack, no network, no environment (`npm run test:unit`).
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{packages/*,services/*,workflows}/test/unit/**/*.test.ts',
        '<rootDir>/test/unit/**/*.test.ts',
      ],
      testPathIgnorePatterns: ['/node_modules/', '/.cache/'],
    },
    {
      ...shared,
      displayName: 'integration',
      // Every integration test talks to the real stack; the global setup starts it if it is not up.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      testMatch: ['<rootDir>/{test,packages/*/test,services/*/test,workflows/test}/**/*.test.ts'],
      // The chaos suite restarts shared servers, so it runs in a jest of its own after the rest
      // (`npm run test:chaos`, the last step of `npm test`), see test/chaos.
      testPathIgnorePatterns: [
        '/node_modules/',
        '/.cache/',
        '/test/unit/',
        ...(process.env.PAYSTREAM_CHAOS ? [] : ['/test/chaos/']),
      ],
    },
  ],
  // Global options (the whole run, whichever projects are selected).
  testTimeout: 60_000,
  // Kafka and Temporal clients keep sockets; tests close what they open, this only guards CI from hanging.
  forceExit: true,
  verbose: true,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
