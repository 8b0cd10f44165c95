/**
 * Bundles the Lambda entry module (src/lambda.ts) into dist/index.js for the
 * container image, copies the transforms (SQL and dataset contracts) beside it
 * and copies image/package.json and image/package-lock.json: the native
 * dependencies, which the Dockerfile installs inside Linux with `npm ci`. The
 * build fails when that lockfile pins other versions than the workspace
 * resolved (`pnpm --filter @lakehouse/app lock-image` brings it in line).
 *
 *   pnpm --filter @lakehouse/app build [outDir]
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { BUNDLE_MODULE } from '@lakehouse/contract';
import { buildSync } from 'esbuild';

export const APP_DIR = resolve(__dirname, '..');
export const DEFAULT_OUT_DIR = join(APP_DIR, 'dist');
/** The image's own npm project: what `npm ci` installs in the Dockerfile, from its lockfile. */
export const IMAGE_DEPENDENCIES_DIR = join(APP_DIR, 'image');
const IMAGE_MANIFESTS = ['package.json', 'package-lock.json'];

/** DuckDB ships a native addon per platform: it cannot be bundled, the image installs it for Linux. */
export const NATIVE_PACKAGES = ['@duckdb/node-api'];
const EXTERNAL = [...NATIVE_PACKAGES, '@duckdb/node-bindings', '@duckdb/node-bindings-*'];

export interface BundleResult {
  outDir: string;
  entry: string;
  nativeDependencies: Record<string, string>;
}

/** The version of a package as installed for the app (what pnpm-lock.yaml resolved). */
export function installedVersion(name: string): string {
  const requireFromApp = createRequire(join(APP_DIR, 'package.json'));
  const manifest = JSON.parse(readFileSync(requireFromApp.resolve(`${name}/package.json`), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/**
 * Builds into a sibling folder, then replaces `outDir` only if anything differs: the bundle is
 * deterministic, so rebuilding unchanged sources (every synth does) never touches a build context
 * that another process may be hashing or sending to Docker.
 */
export function buildBundle(outDir: string = DEFAULT_OUT_DIR): BundleResult {
  const nativeDependencies = checkImageLock();
  mkdirSync(dirname(outDir), { recursive: true });
  const staging = mkdtempSync(`${outDir}.building-`);
  try {
    writeBundle(staging);
    if (!sameFiles(staging, outDir)) {
      rmSync(outDir, { recursive: true, force: true });
      renameSync(staging, outDir);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { outDir, entry: join(outDir, `${BUNDLE_MODULE}.js`), nativeDependencies };
}

function writeBundle(outDir: string): void {
  buildSync({
    absWorkingDir: APP_DIR,
    entryPoints: [join(APP_DIR, 'src', 'lambda.ts')],
    outfile: join(outDir, `${BUNDLE_MODULE}.js`),
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
  for (const file of IMAGE_MANIFESTS) copyFileSync(join(IMAGE_DEPENDENCIES_DIR, file), join(outDir, file));
}

/** True when both folders hold the same files with the same bytes. */
function sameFiles(a: string, b: string): boolean {
  if (!existsSync(b)) return false;
  const files = (dir: string) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
      .sort();
  const names = files(a);
  const other = files(b);
  return (
    names.length === other.length &&
    names.every((name, i) => name === other[i] && readFileSync(join(a, name)).equals(readFileSync(join(b, name))))
  );
}

interface PackageLock {
  packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
}

/**
 * The native dependencies image/package-lock.json pins, checked against what the workspace resolved:
 * the image must run the DuckDB the tests ran.
 */
export function checkImageLock(dir: string = IMAGE_DEPENDENCIES_DIR): Record<string, string> {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as PackageLock;
  const declared = lock.packages['']?.dependencies ?? {};
  const drift = NATIVE_PACKAGES.flatMap((name) => {
    const locked = lock.packages[`node_modules/${name}`]?.version;
    const wanted = installedVersion(name);
    return locked === wanted && declared[name] === wanted ? [] : [`${name}: lockfile ${locked}, workspace ${wanted}`];
  });
  if (drift.length > 0) {
    throw new Error(
      `app/image/package-lock.json is out of date (${drift.join('; ')}): run pnpm --filter @lakehouse/app lock-image`,
    );
  }
  return Object.fromEntries(NATIVE_PACKAGES.map((name) => [name, declared[name] as string]));
}

if (require.main === module) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUT_DIR;
  const result = buildBundle(outDir);
  console.log(`bundled ${result.entry} (native: ${JSON.stringify(result.nativeDependencies)})`);
}
