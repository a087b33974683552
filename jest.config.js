/**
 * Two projects. unit: mocked clients and simulated worlds, no emulator, so `npm run test:unit`
 * never installs or starts one. emulator: integration (the core against moto server) and
 * end-to-end (the committed bundles); its global setup installs the emulator, and jest runs it
 * only when at least one of these tests is selected.
 */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }]
  },
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  clearMocks: true
}

export default {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'emulator',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/support/emulator/global-setup.mjs'
    }
  ]
}
