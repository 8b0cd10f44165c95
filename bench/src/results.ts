import type { Machine } from './machine';
import type { BenchOptions } from './options';
import type { ChunksResult } from './scenarios/chunks';
import type { ColdStartResult } from './scenarios/cold-start';
import type { ComparisonResult } from './scenarios/comparison';
import type { GoldGrowthResult } from './scenarios/gold-growth';
import type { MemoryResult } from './scenarios/memory';
import type { PipelineFigures } from './steps/pipeline';

/** One bench run: what was asked, where it ran, every scenario's figures, and what went wrong. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  command: string;
  options: BenchOptions;
  machine: Machine;
  comparison?: ComparisonResult;
  goldGrowth?: GoldGrowthResult;
  coldStart?: ColdStartResult;
  memory?: MemoryResult;
  chunks?: ChunksResult;
  /** Any entry makes the bench exit non-zero. */
  failures: string[];
}

/** A pipeline run counts only if it ended `ingested` and its outputs were found. */
function pipelineFailure(where: string, run: PipelineFigures): string | undefined {
  if (run.status !== 'ingested') return `${where}: ended ${run.status} (${run.reason ?? 'no reason given'})`;
  if (!run.outputsFound) return `${where}: silver object or gold partitions not found after ingestion`;
  return undefined;
}

export function failuresOf(results: Omit<BenchResults, 'failures'>): string[] {
  const failures: Array<string | undefined> = [];
  for (const [index, run] of (results.comparison?.runs.pipeline ?? []).entries()) {
    failures.push(pipelineFailure(`comparison pipeline run ${index + 1}`, run));
  }
  for (const file of results.goldGrowth?.files ?? []) {
    if (file.status !== 'ingested') failures.push(`gold-growth ${file.key}: ended ${file.status}`);
  }
  const check = results.goldGrowth?.check;
  if (check && !check.exact) {
    failures.push(`gold-growth: gold counts ${check.goldTrips} trips, silver holds ${check.silverRows} rows`);
  }
  if (results.coldStart && !results.coldStart.allIngested)
    failures.push('cold-start: an ingestion did not end ingested');
  for (const size of results.memory?.sizes ?? []) failures.push(pipelineFailure(`memory ${size.rows} rows`, size));
  const chunks = results.chunks;
  for (const [way, runs] of Object.entries(chunks?.runs ?? {})) {
    for (const [index, run] of runs.entries()) failures.push(pipelineFailure(`chunks ${way} run ${index + 1}`, run));
  }
  for (const [index, run] of (chunks?.runs.chunked ?? []).entries()) {
    if (run.status === 'ingested' && run.chunks === null) {
      failures.push(`chunks chunked run ${index + 1}: processed whole (${run.reason ?? 'no reason given'})`);
    }
  }
  if (chunks && !chunks.sameCounts) failures.push('chunks: whole and chunked runs wrote different row counts');
  if (chunks && !chunks.sameOutput) failures.push('chunks: whole and chunked runs wrote different rows or gold');
  return failures.filter((failure): failure is string => failure !== undefined);
}
