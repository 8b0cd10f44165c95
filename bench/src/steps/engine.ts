import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runChildScript } from '../child-process';
import type { EngineFigures } from '../children/engine';
import type { DuckdbSizing } from '../lambda-duckdb';
import { scratchDir } from '../scratch';
import type { TripsFile } from '../trips-files';

export type { EngineFigures };

const ENGINE_CHILD = join(__dirname, '..', 'children', 'engine.ts');

/** DuckDB alone on the file, in a fresh process; its outputs are removed afterwards. */
export async function runEngine(file: TripsFile, sizing: DuckdbSizing): Promise<EngineFigures> {
  const workDir = await scratchDir('engine');
  try {
    return await runChildScript<EngineFigures>(ENGINE_CHILD, [
      file.path,
      workDir,
      String(sizing.memoryLimitMb),
      String(sizing.threads),
    ]);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
