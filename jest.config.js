/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // Middy and eventsource-parser ship ES modules only; jest's module system needs them as CommonJS.
    '^.+/node_modules/(@middy|eventsource-parser)/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/|eventsource-parser/)'],
  testMatch: [
    '<rootDir>/lambdas/**/*.test.ts',
    '<rootDir>/local/**/*.test.ts',
    '<rootDir>/test/**/*.test.ts',
    '<rootDir>/console/*.test.ts',
  ],
  // DynamoDB Local is started once for the whole run and shared by every suite (one table each).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  maxWorkers: 2,
  testTimeout: 30_000,
};
