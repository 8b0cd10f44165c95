import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runChildScript } from '../child-process';
import type { ColdStartFigures } from '../children/cold-start';
import { progress, progressLine } from '../progress';
import { scratchDir } from '../scratch';
import { type Spread, spread } from '../stats';
import type { TripsFile } from '../trips-files';

export interface ColdStartResult {
  rowsPerFile: number;
  runs: ColdStartFigures[];
  loadModulesMs: Spread;
  firstIngestionMs: Spread;
  warmIngestionMs: Spread;
  /** Every ingestion of every run ended `ingested`. */
  allIngested: boolean;
}

const COLD_START_CHILD = join(__dirname, '..', 'children', 'cold-start.ts');

/** The handler's cold start, each run in a fresh process: module load, first ingestion, a warm one. */
export async function runColdStart(
  first: TripsFile,
  second: TripsFile,
  runs: number,
  memoryMb: number,
): Promise<ColdStartResult> {
  const figures: ColdStartFigures[] = [];
  for (let run = 1; run <= runs; run++) {
    progress(`  run ${run}/${runs}: `);
    const workDir = await scratchDir('cold');
    try {
      const result = await runChildScript<ColdStartFigures>(COLD_START_CHILD, [
        first.path,
        second.path,
        workDir,
        String(memoryMb),
      ]);
      figures.push(result);
      progressLine(
        `load ${result.loadModulesMs} ms, first ${result.firstIngestionMs} ms, warm ${result.warmIngestionMs} ms`,
      );
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
  return {
    rowsPerFile: first.rows,
    runs: figures,
    loadModulesMs: spread(figures.map((run) => run.loadModulesMs)),
    firstIngestionMs: spread(figures.map((run) => run.firstIngestionMs)),
    warmIngestionMs: spread(figures.map((run) => run.warmIngestionMs)),
    allIngested: figures.every((run) => run.statuses.length === 2 && run.statuses.every((s) => s === 'ingested')),
  };
}
