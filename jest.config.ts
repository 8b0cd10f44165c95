/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// ts-jest with isolatedModules transpiles file by file (fast); `pnpm typecheck` type-checks.
const project = (name: string, extra: Partial<Config> = {}): Config => ({
  displayName: name,
  rootDir: `<rootDir>/${name}`,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: '<rootDir>/tsconfig.json' }] },
  ...extra,
});

const config: Config = {
  projects: [
    project('packages/contract'),
    project('packages/local-s3'),
    project('app', { testTimeout: 60_000 }),
    project('infra', { testTimeout: 120_000 }),
  ],
};

export default config;
