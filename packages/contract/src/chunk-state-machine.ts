import { CHUNK_FINAL_ERROR, CHUNK_STEP } from './handlers';

/**
 * Files above this many MB are processed in chunks by default, on AWS
 * (`chunk_threshold_mb`) as locally (`pnpm dev`, `pnpm backfill`): about what
 * one invocation reads, stages and publishes in a minute, well inside its
 * memory, temp storage and 15 minutes.
 */
export const DEFAULT_CHUNK_THRESHOLD_MB = 512;

/** Retries of a chunk after a fault (a chunk runs at most this many times plus one). */
export const CHUNK_RETRIES = 3;

/** The states of the chunk state machine, by name: operators find them in the console and in redrives. */
export const CHUNK_STATES = {
  map: 'Chunks',
  chunk: 'Chunk',
  recordFailure: 'RecordChunkFailure',
  chunkFailed: 'ChunkFailed',
  commit: 'Commit',
  fail: 'QuarantineFile',
} as const;

export interface ChunkStateMachineProps {
  /** The chunk function (index.chunkHandler), which runs every step. */
  chunkFunctionArn: string;
  /** Chunks running at once: the Distributed Map's MaxConcurrency. */
  maxConcurrency: number;
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

/** Lambda's own faults and throttles, and the step's: retried with exponential backoff and full jitter. */
const retryFaults = (intervalSeconds: number, maxAttempts: number) => ({
  ErrorEquals: ['States.ALL'],
  IntervalSeconds: intervalSeconds,
  MaxAttempts: maxAttempts,
  BackoffRate: 2,
  MaxDelaySeconds: 300,
  JitterStrategy: 'FULL',
});

/** A step of the chunk function: the step's name and its input paths in the payload. */
const invoke = (functionArn: string, payload: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: LAMBDA_INVOKE,
  Parameters: { FunctionName: functionArn, Payload: payload },
});

/**
 * The chunk state machine (Amazon States Language), shared by the stack that
 * declares it and the tests that run its steps as it runs them. Its input is
 * `{ plan: { bucket, key }, context }`: a Distributed Map reads the plan's
 * items from S3 and runs each in a child execution (the chunk step, retried
 * with backoff; a chunk failing for good records why, then fails its child,
 * which fails the map); the map's Catch leads to the fail step, which
 * quarantines the file; after the map, the commit publishes it. The map's
 * results are dropped (`ResultPath: null`): the commit reads the parts'
 * manifests from S3, so no payload grows with the number of chunks.
 */
export function chunkStateMachineDefinition({ chunkFunctionArn, maxConcurrency }: ChunkStateMachineProps) {
  const context = { 'context.$': '$.context' };
  return {
    Comment: 'One raw file in chunks: every chunk of its plan (Distributed Map), then one commit, or the fail step',
    StartAt: CHUNK_STATES.map,
    States: {
      [CHUNK_STATES.map]: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { 'Bucket.$': '$.plan.bucket', 'Key.$': '$.plan.key' },
        },
        ItemSelector: { ...context, 'item.$': '$$.Map.Item.Value' },
        MaxConcurrency: maxConcurrency,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: CHUNK_STATES.chunk,
          States: {
            [CHUNK_STATES.chunk]: {
              ...invoke(chunkFunctionArn, { step: CHUNK_STEP.chunk, ...context, 'item.$': '$.item' }),
              // A child's output stays a few bytes, whatever the chunk.
              ResultSelector: { 'index.$': '$.Payload.index' },
              Retry: [{ ErrorEquals: [CHUNK_FINAL_ERROR], MaxAttempts: 0 }, retryFaults(5, CHUNK_RETRIES)],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: CHUNK_STATES.recordFailure }],
              End: true,
            },
            [CHUNK_STATES.recordFailure]: {
              ...invoke(chunkFunctionArn, {
                step: CHUNK_STEP.recordFailure,
                ...context,
                'item.$': '$.item',
                'error.$': '$.error',
                attempts: CHUNK_RETRIES + 1,
              }),
              ResultPath: null,
              Retry: [retryFaults(2, 5)],
              Next: CHUNK_STATES.chunkFailed,
            },
            [CHUNK_STATES.chunkFailed]: {
              Type: 'Fail',
              Error: 'ChunkFailed',
              Cause: 'A chunk failed for good; the fail step quarantines the file, naming it.',
            },
          },
        },
        ResultPath: null,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.mapError', Next: CHUNK_STATES.fail }],
        Next: CHUNK_STATES.commit,
      },
      [CHUNK_STATES.commit]: {
        ...invoke(chunkFunctionArn, { step: CHUNK_STEP.commit, ...context }),
        OutputPath: '$.Payload',
        Retry: [retryFaults(10, 3)],
        End: true,
      },
      [CHUNK_STATES.fail]: {
        ...invoke(chunkFunctionArn, { step: CHUNK_STEP.fail, ...context }),
        OutputPath: '$.Payload',
        Retry: [retryFaults(10, 3)],
        End: true,
      },
    },
  };
}
