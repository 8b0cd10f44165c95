import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { REPO_ROOT } from '../../local/local-lakehouse';

/** `pnpm <args>` as a user runs it, from `cwd`; each its own process group, like a terminal job. */
export function pnpm(args: string[], cwd = REPO_ROOT): ChildProcess & { out: () => string; err: () => string } {
  const child = spawn('pnpm', ['--dir', REPO_ROOT, ...args], {
    cwd,
    detached: true,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  child.stderr?.on('data', (chunk) => (err += chunk));
  return Object.assign(child, { out: () => out, err: () => err });
}

export async function run(args: string[], cwd?: string) {
  const child = pnpm(args, cwd);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out: child.out(), err: child.err() };
}

export async function until(condition: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
