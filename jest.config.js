module.exports = {
  testEnvironment: 'node',
  transform: {},
  testMatch: ['<rootDir>/__test__/**/*.spec.js'],
  globalSetup: '<rootDir>/__test__/helpers/global-setup.js',
  globalTeardown: '<rootDir>/__test__/helpers/global-teardown.js',
  testTimeout: 30000,
  maxWorkers: 1,
  modulePathIgnorePatterns: ['<rootDir>/target/', '<rootDir>/npm/', '<rootDir>/tools/'],
}
