import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temp folder of one bench run (generated files, lakehouse data dirs,
 * step outputs) lives under one root, removed when the process exits however
 * it exits, so an interrupted run leaves no gigabytes behind in /tmp.
 */
let root: string | undefined;

export function scratchDir(name: string): Promise<string> {
  root ??= mkdtempSync(join(tmpdir(), 'lakehouse-bench-'));
  return mkdtemp(join(root, `${name}-`));
}

process.on('exit', () => {
  if (root) rmSync(root, { recursive: true, force: true });
});
