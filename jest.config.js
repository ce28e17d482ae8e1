/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/spec', '<rootDir>/examples'],
  // Examples import the package by name, as users do; the names map to the sources.
  moduleNameMapper: { '^rime-rx$': '<rootDir>/lib/index.ts', '^rime-rx/(.*)$': '<rootDir>/lib/$1/index.ts' },
  testMatch: ['**/*.spec.ts'],
  setupFilesAfterEnv: ['<rootDir>/spec/support/noOpenHandles.ts'],
  // tsconfig sets isolatedModules, so ts-jest only transpiles: `npm run typecheck` is the type gate.
};
