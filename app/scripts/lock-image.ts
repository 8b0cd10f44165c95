/**
 * Pins the image's native dependencies (image/package.json) at the versions the
 * workspace resolved, and refreshes image/package-lock.json from the npm
 * registry, so the image installs exactly the DuckDB the tests ran, with
 * integrity hashes, for either Linux architecture.
 *
 *   pnpm --filter @lakehouse/app lock-image
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkImageLock, IMAGE_DEPENDENCIES_DIR, installedVersion, NATIVE_PACKAGES } from './build';

const manifestPath = join(IMAGE_DEPENDENCIES_DIR, 'package.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
manifest.dependencies = Object.fromEntries(NATIVE_PACKAGES.map((name) => [name, installedVersion(name)]));
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
execFileSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], {
  cwd: IMAGE_DEPENDENCIES_DIR,
  stdio: 'inherit',
});
console.log(`locked ${JSON.stringify(checkImageLock())} in app/image/package-lock.json`);
