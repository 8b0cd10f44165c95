import { setTimeout as sleep } from 'node:timers/promises';
import type { Dataset } from '../datasets';
import { messageOf, SourceGoneError } from '../errors';
import type { IngestDeps, IngestOutcome, RawObject } from '../ingest/ingest-object';
import { inParallel } from '../io/s3-io';
import { StepClock } from '../step-times';
import type { ChunkExecutions } from './chunk-executions';
import { failureOf, isFinal, recordChunkFailure, runChunk } from './phases/chunk';
import { commitFile, removeParts } from './phases/commit';
import type { ChunkItem } from './phases/context';
import { failFile } from './phases/fail';
import { type NotSplit, type PlannedFile, planFile } from './phases/plan';

export type { NotSplit } from './phases/plan';

/**
 * How a file above `chunkBytes` is processed in chunks: by the local
 * lakehouse itself (`--chunk-mb`: at most `concurrency` chunks at once, each
 * retried after `retryDelaysMs`), or on AWS by the chunk state machine (a
 * Step Functions Distributed Map) that the plan is handed to.
 */
export type ChunkOptions = { chunkBytes: number } & (LocalChunks | { executions: ChunkExecutions });

export interface LocalChunks {
  /** Chunks processed at once. */
  concurrency: number;
  /** Waits before each retry of a failed chunk (backoff); a chunk that fails them all quarantines the file. */
  retryDelaysMs: readonly number[];
}

/**
 * A file above the chunk size, in chunks, by the same steps everywhere: plan
 * (small ranged GETs; the items to S3), every chunk to its parts, then one
 * commit that publishes the file as the single-invocation path does and
 * submits one gold job; or, when a chunk fails for good, the fail step that
 * quarantines the file naming the chunk. On AWS this function only plans and
 * starts the state machine, which runs the other steps in the chunk
 * function. What cannot be split exactly comes back as `NotSplit`.
 */
export async function ingestInChunks(
  raw: RawObject,
  dataset: Dataset,
  deps: IngestDeps,
  options: ChunkOptions,
  now: () => Date,
): Promise<IngestOutcome | NotSplit> {
  const clock = new StepClock();
  try {
    const planned = await planFile(raw, dataset, deps, options.chunkBytes, now);
    if ('notSplit' in planned) return planned;
    clock.lap('plan');
    if ('executions' in options) {
      const execution = await options.executions.start(planned);
      if (execution.alreadyRunning) {
        return { status: 'skipped', reason: `already being processed in chunks by ${execution.arn}` };
      }
      return { status: 'planned', dataset: dataset.name, chunks: planned.items.length, execution: execution.arn };
    }
    return await runLocally(planned, deps, options, clock);
  } catch (error) {
    if (error instanceof SourceGoneError) return { status: 'skipped', reason: error.message };
    throw error;
  }
}

/** The state machine's steps, run in process: chunks with their retries, then commit or fail. */
async function runLocally(
  { context, items }: PlannedFile,
  deps: IngestDeps,
  options: LocalChunks,
  clock: StepClock,
): Promise<IngestOutcome | NotSplit> {
  try {
    await runChunks(items, options, (item) => runChunk(context, item, deps));
    clock.lap('chunks');
  } catch (error) {
    if (!(error instanceof ChunkFailedError)) {
      await removeParts(context, deps);
      throw error;
    }
    await recordChunkFailure(context, failureOf(error.chunk, error.cause, error.attempts), deps);
    return failFile(context, deps);
  }
  try {
    const outcome = await commitFile(context, deps);
    clock.lap('commit');
    return outcome.status === 'ingested' ? { ...outcome, stepsMs: clock.ms } : outcome;
  } catch (error) {
    // A fault: the event is retried from a new plan, which rewrites every part.
    await removeParts(context, deps);
    throw error;
  }
}

/** A chunk that failed after its retries. */
class ChunkFailedError extends Error {
  override name = 'ChunkFailedError';
  constructor(
    readonly chunk: ChunkItem,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(`chunk ${chunk.index} failed after ${attempts} attempts: ${messageOf(cause)}`, { cause });
  }
}

/**
 * Every chunk, at most `concurrency` at once, each retried after the delays
 * (not once another chunk has failed). After a failure no new chunk starts,
 * and the failure is thrown once the running ones have stopped, so nothing
 * writes a part after the cleanup.
 */
async function runChunks<T>(
  chunks: readonly ChunkItem[],
  { concurrency, retryDelaysMs }: LocalChunks,
  work: (chunk: ChunkItem) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  let failed = false;
  const attempt = async (chunk: ChunkItem): Promise<T> => {
    for (let attempts = 1; ; attempts++) {
      try {
        return await work(chunk);
      } catch (error) {
        if (isFinal(error)) throw new ChunkFailedError(chunk, attempts, error);
        const delay = retryDelaysMs[attempts - 1];
        if (delay === undefined || failed) throw new ChunkFailedError(chunk, attempts, error);
        await sleep(delay);
      }
    }
  };
  await inParallel(chunks, concurrency, async (chunk) => {
    try {
      results[chunk.index] = await attempt(chunk);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
  return results;
}
