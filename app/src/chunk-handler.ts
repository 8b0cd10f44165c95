import { CHUNK_STEP } from '@lakehouse/contract';
import {
  type ChunkDone,
  ChunkFinalError,
  failureOf,
  failureOfTask,
  isFinal,
  recordChunkFailure,
  runChunk,
  type TaskError,
} from './chunks/phases/chunk';
import { commitFile } from './chunks/phases/commit';
import type { ChunkContext, ChunkItem } from './chunks/phases/context';
import { failFile } from './chunks/phases/fail';
import { type IngestOutcome, ingestNotSplit } from './ingest/ingest-object';
import { logger } from './logger';
import { recordOutcome } from './metrics';
import { type Runtime, runtime } from './runtime';

/** What the chunk state machine passes the chunk function, the step named in `step` (see CHUNK_STEP). */
export type ChunkStepInput =
  | { step: typeof CHUNK_STEP.chunk; context: ChunkContext; item: ChunkItem }
  | {
      step: typeof CHUNK_STEP.recordFailure;
      context: ChunkContext;
      item: ChunkItem;
      error: TaskError;
      attempts: number;
    }
  | { step: typeof CHUNK_STEP.commit; context: ChunkContext }
  | { step: typeof CHUNK_STEP.fail; context: ChunkContext };

/**
 * The chunk function: one step of a file processed in chunks, as the chunk
 * state machine calls it. A chunk that no retry can fix throws a
 * ChunkFinalError (the state machine does not retry it); any other error is
 * a fault the state machine retries. The commit and fail steps end the file:
 * they log its outcome line and count it, as the ingestion function does
 * for a file processed whole.
 */
export async function handleChunkStep(input: ChunkStepInput, rt: Runtime): Promise<ChunkDone | IngestOutcome> {
  switch (input.step) {
    case CHUNK_STEP.chunk:
      try {
        return await runChunk(input.context, input.item, rt);
      } catch (error) {
        if (isFinal(error)) throw new ChunkFinalError(failureOf(input.item, error));
        throw error;
      }
    case CHUNK_STEP.recordFailure: {
      const failure = failureOfTask(input.item, input.error, input.attempts);
      await recordChunkFailure(input.context, failure, rt);
      logger.warn('chunk failed for good', { key: input.context.raw.key, ...failure });
      return { index: input.item.index };
    }
    case CHUNK_STEP.commit:
      return fileOutcome(input.context, () => commitFile(input.context, rt));
    case CHUNK_STEP.fail:
      return fileOutcome(input.context, async () => {
        const failed = await failFile(input.context, rt);
        // A chunk that was not whole records: the file is read whole, here, as the local path does.
        return 'status' in failed ? failed : ingestNotSplit(input.context.raw, rt, failed.notSplit);
      });
    default:
      throw new Error(`unknown chunk step: ${JSON.stringify((input as { step?: unknown }).step)}`);
  }
}

/** The file's outcome line and metrics; its time is the whole file's, from its plan (the context's ingestion time). */
async function fileOutcome(context: ChunkContext, step: () => Promise<IngestOutcome>): Promise<IngestOutcome> {
  const started = performance.now();
  const outcome = await step();
  const stepMs = Math.round(performance.now() - started);
  const ms = Math.max(stepMs, Date.now() - Date.parse(context.lineage.ingestedAt));
  logger.info('processed object', { key: context.raw.key, ms, stepMs, ...outcome });
  recordOutcome(outcome, ms);
  return outcome;
}

export const chunkHandler = async (input: ChunkStepInput) => handleChunkStep(input, runtime());
