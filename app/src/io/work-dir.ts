import { readdirSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** What an invocation leaves in the work dir while it runs; a timed-out one never removes them. */
const INVOCATION_FOLDERS = /^(ingest|gold|gold-cache)-/;

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
  for (const entry of entriesOf(workDir)) if (INVOCATION_FOLDERS.test(entry)) remove(join(workDir, entry));
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
