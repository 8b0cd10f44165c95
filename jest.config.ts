/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// The SDK warns once per process that Node 20 support ends; Lambda runs Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Tests that expect failures would print the handler's ERROR lines with stack
// traces, which read as failures: the handler's logs are off in tests (set
// POWERTOOLS_LOG_LEVEL=WARN to see them). Real runs keep them.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

// ts-jest with isolatedModules (tsconfig.base.json) transpiles file by file (fast); `pnpm typecheck` type-checks.
const project = (name: string): Config => ({
  displayName: name,
  rootDir: `<rootDir>/${name}`,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
});

const config: Config = {
  // Global, not per project: jest ignores testTimeout inside a project. Tests start
  // servers, DuckDB and synths; the limit catches hangs, the bench measures speed.
  testTimeout: 60_000,
  // The image's build context (app/dist), built once, so every test hashes the same one.
  globalSetup: '<rootDir>/infra/test/support/build-image-context.ts',
  projects: ['packages/contract', 'packages/local-s3', 'app', 'infra', 'bench'].map(project),
};

export default config;
