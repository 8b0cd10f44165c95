import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runChildScript } from '../child-process';
import type { PeerFigures } from '../children/peer';
import type { DuckdbSizing } from '../lambda-duckdb';
import { scratchDir } from '../scratch';
import type { TripsFile } from '../trips-files';

export type { PeerFigures };

const PEER_CHILD = join(__dirname, '..', 'children', 'peer.ts');

/**
 * nodejs-polars on the file, in a fresh process with as many threads as
 * DuckDB gets. A peer that fails is reported, never fails the bench.
 */
export async function runPeer(file: TripsFile, sizing: DuckdbSizing): Promise<PeerFigures> {
  const workDir = await scratchDir('peer');
  try {
    return await runChildScript<PeerFigures>(PEER_CHILD, [file.path, workDir], {
      POLARS_MAX_THREADS: String(sizing.threads),
    });
  } catch (error) {
    return { available: false, reason: `nodejs-polars failed: ${error instanceof Error ? error.message : error}` };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
