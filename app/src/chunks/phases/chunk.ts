import { CHUNK_FINAL_ERROR, chunkFailureKey, chunkManifestKey } from '@lakehouse/contract';
import { messageOf, PoisonFileError, SourceGoneError } from '../../errors';
import { putJson } from '../../io/s3-io';
import { NotSplittableError, processChunk } from '../process-chunk';
import { type ChunkContext, type ChunkFailure, type ChunkItem, chunkJobOf, type StepDeps } from './context';

/** What a chunk step returns: little, so that hundreds of results stay far under a state's 256 KB. */
export interface ChunkDone {
  index: number;
}

/**
 * The chunk step: one item to its staged part and lines part (processChunk),
 * then the part's manifest beside them, which the commit reads. Parts and
 * manifest have deterministic keys: a retried chunk overwrites its own.
 */
export async function runChunk(context: ChunkContext, item: ChunkItem, deps: StepDeps): Promise<ChunkDone> {
  const part = await processChunk(chunkJobOf(context, deps), item);
  await putJson(deps.s3, deps.cfg.silverBucket, chunkManifestKey(context.raw.key, context.version, item.index), part);
  return { index: part.index };
}

/** What a retry cannot change: the file itself, or its being gone. */
export const isFinal = (error: unknown) =>
  error instanceof PoisonFileError ||
  error instanceof NotSplittableError ||
  error instanceof SourceGoneError ||
  error instanceof ChunkFinalError;

/** A chunk's failure as the fail step reads it, from what the chunk threw. */
export function failureOf(item: ChunkItem, error: unknown, attempts?: number): ChunkFailure {
  const where = { index: item.index, start: item.start, end: item.end, ...(attempts ? { attempts } : {}) };
  if (error instanceof ChunkFinalError) return { ...where, ...error.failure };
  if (error instanceof PoisonFileError)
    return { ...where, kind: 'poison', reason: error.reason, message: error.message };
  if (error instanceof NotSplittableError) return { ...where, kind: 'not-splittable', message: error.message };
  if (error instanceof SourceGoneError) return { ...where, kind: 'source-gone', message: error.message };
  return { ...where, kind: 'transient', message: messageOf(error) };
}

type CarriedFailure = Pick<ChunkFailure, 'kind' | 'reason' | 'message'>;

/**
 * A chunk that no retry can fix, as the chunk function throws it on AWS: its
 * name tells the state machine not to retry, its message carries the
 * failure (as JSON) through Step Functions' error cause to the record step.
 */
export class ChunkFinalError extends Error {
  override name = CHUNK_FINAL_ERROR;
  readonly failure: CarriedFailure;
  constructor({ kind, reason, message }: CarriedFailure) {
    const carried = { kind, ...(reason ? { reason } : {}), message };
    super(JSON.stringify(carried));
    this.failure = carried;
  }
}

/** Step Functions' error of a failed Lambda task: `Cause` is the function's error as JSON. */
export interface TaskError {
  Error?: string;
  Cause?: string;
}

/**
 * A chunk's failure from the error the state machine caught after the
 * retries: a ChunkFinalError's own failure, or a fault that outlasted them
 * (a timeout or a throttle has no JSON cause; its text is kept).
 */
export function failureOfTask(item: ChunkItem, error: TaskError, attempts: number): ChunkFailure {
  let cause: { errorType?: string; errorMessage?: string } = {};
  try {
    cause = JSON.parse(error.Cause ?? '{}');
  } catch {
    cause = { errorMessage: error.Cause };
  }
  if (error.Error === CHUNK_FINAL_ERROR && cause.errorMessage) {
    try {
      const carried = JSON.parse(cause.errorMessage) as CarriedFailure;
      if (typeof carried.kind === 'string' && typeof carried.message === 'string') {
        return failureOf(item, new ChunkFinalError(carried));
      }
    } catch {
      // Not our JSON after all: recorded as a fault, with its text.
    }
  }
  const message = [error.Error, cause.errorMessage ?? error.Cause].filter(Boolean).join(': ');
  return { ...failureOf(item, new Error(message || 'unknown error')), attempts };
}

/** Records a chunk's failure for good beside the parts, where the fail step finds it. */
export async function recordChunkFailure(context: ChunkContext, failure: ChunkFailure, deps: StepDeps): Promise<void> {
  const key = chunkFailureKey(context.raw.key, context.version, failure.index);
  await putJson(deps.s3, deps.cfg.silverBucket, key, failure);
}
