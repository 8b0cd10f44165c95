import { progress, progressLine } from '../progress';
import { type PipelineFigures, runPipeline } from '../steps/pipeline';
import type { TripsFile } from '../trips-files';

export interface MemorySize extends PipelineFigures {
  rows: number;
  fileBytes: number;
  microsPerRow: number;
}

export interface MemoryResult {
  sizes: MemorySize[];
  /** Time per row of the largest size over that of the smallest: 1 means it scales linearly. */
  largestOverSmallest: number | null;
}

/** One file per size, each into a fresh lakehouse: time per row and peak memory as files grow. */
export async function runMemory(files: readonly TripsFile[], memoryMb: number): Promise<MemoryResult> {
  const sizes: MemorySize[] = [];
  for (const file of files) {
    progress(`  ${file.rows.toLocaleString('en-US')} rows: `);
    const figures = await runPipeline(file, `trips/bench/${file.rows}.csv`, memoryMb);
    sizes.push({
      ...figures,
      rows: file.rows,
      fileBytes: file.bytes,
      microsPerRow: (figures.ms * 1000) / file.rows,
    });
    progressLine(`${figures.status} in ${(figures.ms / 1000).toFixed(2)} s, peak ${figures.peakRssMb ?? '?'} MB`);
  }
  const bySize = [...sizes].sort((a, b) => a.rows - b.rows);
  const smallest = bySize[0];
  const largest = bySize.at(-1);
  return {
    sizes,
    largestOverSmallest:
      smallest && largest && smallest.microsPerRow > 0 ? largest.microsPerRow / smallest.microsPerRow : null,
  };
}
