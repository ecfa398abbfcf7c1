import base from './jest.config.js';

/**
 * `npm run test:faults`: the fault tests (test/faults/), real service processes killed, starved of
 * disk or cut off from SMTP. Minutes, not seconds, so they run apart from `npm test`; `.ci/run`
 * runs both.
 */
export default {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // One at a time: each spec drives whole processes, and they would skew each other's load.
  maxWorkers: 1,
  testTimeout: 120000,
};
