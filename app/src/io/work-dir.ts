import { readdirSync, rmSync } from 'node:fs';
import { mkdtemp, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../errors';

/**
 * The folders an invocation works in, by what it does (the gold cache lives
 * as long as its container). A timed-out invocation never removes its own.
 */
const INVOCATION_FOLDERS = ['ingest', 'gold', 'gold-cache', 'ledger', 'plan', 'chunk', 'commit'] as const;
type InvocationFolder = (typeof INVOCATION_FOLDERS)[number];
const LEFT_BY_INVOCATIONS = new RegExp(`^(${INVOCATION_FOLDERS.join('|')})-`);

/** A new folder of the work dir for one piece of work: `<kind>-<label->XXXXXX`, which `removeLeftovers` knows. */
export function invocationFolder(workDir: string, kind: InvocationFolder, label?: string): Promise<string> {
  return mkdtemp(join(workDir, `${kind}-${label ? `${label}-` : ''}`));
}

/** The gold cache's folder name (not created here: the cache creates it). */
export function goldCacheFolder(workDir: string, id: string): string {
  return join(workDir, `gold-cache-${id}`);
}

/**
 * Removes what earlier invocations left in the work dir: their folders, and
 * DuckDB's spill files. Lambda keeps /tmp across invocations of a container
 * and a timed-out invocation never runs its `finally`, so a new container
 * (or a restarted local lakehouse) starts by clearing them.
 */
export function removeLeftovers(workDir: string): string[] {
  const removed: string[] = [];
  const remove = (path: string) => {
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  };
  for (const entry of entriesOf(workDir)) if (LEFT_BY_INVOCATIONS.test(entry)) remove(join(workDir, entry));
  const spill = join(workDir, 'duckdb', 'spill');
  for (const entry of entriesOf(spill)) remove(join(spill, entry));
  return removed;
}

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Bytes free for this process in the file system of `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

/** The disk is full: Node's ENOSPC, or DuckDB's message for it. */
export function isOutOfSpace(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOSPC' || /no space left on device/i.test(messageOf(error));
}

/** Megabytes, rounded up, as messages about temp storage give them. */
export const mb = (bytes: number) => Math.ceil(bytes / 1024 ** 2);
