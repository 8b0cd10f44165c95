import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium package: installed on first use where it is missing (root, apt), as .ci/run does. */
const CHROMIUM = '/usr/bin/chromium';
/** Installing chromium from Debian's packages takes a minute or two. */
export const BROWSER_SETUP_MS = 600_000;
/** Headless, and none of the background connections a closed network refuses. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Installs Debian's chromium when it is missing, so that `pnpm test` runs on a fresh machine with
 * only Node.js: as root with apt, as on this project's machines and CI. Elsewhere it says what to install.
 */
async function ensureChromium(): Promise<void> {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`the console's tests need Debian's chromium at ${CHROMIUM}: apt-get install chromium`);
  }
  const apt = promisify(execFile);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await apt('apt-get', ['update', '-qq'], { env });
  await apt('apt-get', ['install', '-y', '-qq', 'chromium'], { env, maxBuffer: 64 * 1024 * 1024 });
}

/** A real headless Chromium with a fresh profile, removed on close. */
export async function openBrowser(): Promise<TestBrowser> {
  await ensureChromium();
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
