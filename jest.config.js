/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  setupFilesAfterEnv: ['<rootDir>/spec/support/noOpenHandles.ts'],
  // tsconfig sets isolatedModules, so ts-jest only transpiles: `npm run typecheck` is the type gate.
};
