/** Jest 30 on native ESM: run through `node --experimental-vm-modules` (see package.json). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }],
  },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  // Minutes of real processes: `npm run test:faults` (jest.faults.config.js), which .ci/run runs too.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
  testTimeout: 30000,
  maxWorkers: 2,
  // Agenda 6.2.6 leaves one lock-check timer (lockLifetime / 2) pending after each job run, which
  // agenda.stop()/drain() do not clear; without forceExit a worker lingers until it fires.
  forceExit: true,
};
