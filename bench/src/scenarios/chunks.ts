import type { ChunkSettings } from '../lakehouse-process';
import { progress, progressLine } from '../progress';
import { type Spread, spread } from '../stats';
import { type ChunkWorkerResult, runChunkWorker } from '../steps/chunk-worker';
import { type PipelineFigures, runPipeline } from '../steps/pipeline';
import type { TripsFile } from '../trips-files';

/** The target: 64 MB chunks, 2 at a time (`pnpm dev --chunk-mb 64 --chunk-concurrency 2`). */
export const CHUNKS: ChunkSettings = { mb: 64, concurrency: 2 };

export interface WaySummary {
  seconds: Spread;
  /** The highest peak of the runs; null when it could not be read. */
  peakRssMb: number | null;
}

export interface ChunksResult {
  rows: number;
  fileBytes: number;
  key: string;
  chunks: ChunkSettings;
  runs: { whole: PipelineFigures[]; chunked: PipelineFigures[] };
  whole: WaySummary;
  chunked: WaySummary & { chunkCount: number | null };
  /** Median chunked time over median whole time: at most 1 meets the target. */
  chunkedOverWhole: number;
  /** Every run of both ways wrote the same silver and rejected row counts. */
  sameCounts: boolean;
  /** Every run of both ways wrote the same rows (silver and rejects, every column but the ingestion time) and gold totals. */
  sameOutput: boolean;
  /** The file's largest chunk run on its own, in a fresh process, as one invocation of the chunk function. */
  worker: ChunkWorkerResult;
}

/**
 * The same file into a fresh lakehouse, once whole and once in chunks, runs
 * interleaved. Chunks run inside the lakehouse process (one DuckDB instance,
 * its threads shared), so one chunk also runs on its own in a fresh process:
 * a chunk worker's own peak.
 */
export async function runChunks(file: TripsFile, runs: number, memoryMb: number): Promise<ChunksResult> {
  const key = `trips/bench/chunks-${file.rows}.csv`;
  const figures: ChunksResult['runs'] = { whole: [], chunked: [] };
  for (let run = 1; run <= runs; run++) {
    progress(`  run ${run}/${runs}: whole `);
    const whole = await runPipeline(file, key, memoryMb, { digest: true });
    figures.whole.push(whole);
    progress(`${whole.status} ${seconds(whole.ms)} (${whole.peakRssMb ?? '?'} MB), chunked `);
    const chunked = await runPipeline(file, key, memoryMb, { chunks: CHUNKS, digest: true });
    figures.chunked.push(chunked);
    progressLine(
      `${chunked.status} in ${chunked.chunks ?? 'no'} chunks ${seconds(chunked.ms)} (${chunked.peakRssMb ?? '?'} MB)`,
    );
  }
  progress('  one chunk in its own process: ');
  const worker = await runChunkWorker(file, CHUNKS, memoryMb);
  progressLine(`chunk ${worker.index}, ${seconds(worker.ms)} (${worker.peakRssMb} MB)`);
  const summary = (ways: PipelineFigures[]): WaySummary => {
    const known = ways.map((way) => way.peakRssMb).filter((peak): peak is number => peak !== null);
    return { seconds: spread(ways.map((way) => way.ms / 1000)), peakRssMb: known.length ? Math.max(...known) : null };
  };
  const whole = summary(figures.whole);
  const chunked = { ...summary(figures.chunked), chunkCount: figures.chunked[0]?.chunks ?? null };
  const counts = (way: PipelineFigures) => `${way.silverRows}/${way.rejectedRows}`;
  const first = figures.whole[0];
  return {
    rows: file.rows,
    fileBytes: file.bytes,
    key,
    chunks: CHUNKS,
    runs: figures,
    whole,
    chunked,
    chunkedOverWhole: chunked.seconds.median / whole.seconds.median,
    worker,
    sameCounts:
      first !== undefined && [...figures.whole, ...figures.chunked].every((way) => counts(way) === counts(first)),
    sameOutput:
      first?.digest !== undefined && [...figures.whole, ...figures.chunked].every((way) => way.digest === first.digest),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
