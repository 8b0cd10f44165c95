/**
 * Bundles the Lambda entry module (src/lambda.ts) into dist/index.js for the
 * container image, copies the transforms (SQL and dataset contracts) beside it
 * and writes dist/package.json naming the native dependencies at the versions
 * the workspace lockfile resolved; the Dockerfile installs those inside Linux.
 *
 *   pnpm --filter @lakehouse/app build [outDir]
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { BUNDLE_MODULE } from '@lakehouse/contract';
import { buildSync } from 'esbuild';

export const APP_DIR = resolve(__dirname, '..');
export const DEFAULT_OUT_DIR = join(APP_DIR, 'dist');

/** DuckDB ships a native addon per platform: it cannot be bundled, the image installs it for Linux. */
export const NATIVE_PACKAGES = ['@duckdb/node-api'];
const EXTERNAL = [...NATIVE_PACKAGES, '@duckdb/node-bindings', '@duckdb/node-bindings-*'];

export interface BundleResult {
  outDir: string;
  entry: string;
  nativeDependencies: Record<string, string>;
}

/** The version of a package as installed for the app (what pnpm-lock.yaml resolved). */
function installedVersion(name: string): string {
  const requireFromApp = createRequire(join(APP_DIR, 'package.json'));
  const manifest = JSON.parse(readFileSync(requireFromApp.resolve(`${name}/package.json`), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

export function buildBundle(outDir: string = DEFAULT_OUT_DIR): BundleResult {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const entry = join(outDir, `${BUNDLE_MODULE}.js`);
  buildSync({
    absWorkingDir: APP_DIR,
    entryPoints: [join(APP_DIR, 'src', 'lambda.ts')],
    outfile: entry,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: EXTERNAL,
    sourcemap: false,
    // Stable output for a stable image tag: paths in the bundle are relative to the app, whatever the cwd.
    legalComments: 'none',
    logLevel: 'warning',
  });

  const transforms = join(APP_DIR, 'transforms');
  if (existsSync(transforms)) cpSync(transforms, join(outDir, 'transforms'), { recursive: true });

  const nativeDependencies = Object.fromEntries(NATIVE_PACKAGES.map((name) => [name, installedVersion(name)]));
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify({ private: true, dependencies: nativeDependencies }, null, 2)}\n`,
  );
  return { outDir, entry, nativeDependencies };
}

if (require.main === module) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUT_DIR;
  const result = buildBundle(outDir);
  console.log(`bundled ${result.entry} (native: ${JSON.stringify(result.nativeDependencies)})`);
}
