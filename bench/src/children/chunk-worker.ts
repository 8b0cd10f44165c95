/**
 * Child: one chunk of a planned file in a fresh process, through the chunk
 * function's entry point (handleChunkStep), as one invocation of the chunk
 * function runs it on AWS: its wall time and its peak RSS (what Lambda
 * reports as Max Memory Used). The S3 server runs in the parent, so the
 * figure is the worker's own.
 *
 *   chunk-worker.ts <ChunkWorkerJob JSON file> <work dir> <lambda memory MB>
 */
import { readFile } from 'node:fs/promises';
import type { ChunkStepInput } from '@lakehouse/app/src/chunk-handler';
import { peakRssMb, replyToParent } from '../child-process';
import { localFunctionConfig } from '../local-function';

/** What the parent hands the worker: the chunk step's input, and where its S3 server and buckets are. */
export interface ChunkWorkerJob {
  input: ChunkStepInput;
  endpoint: string;
  buckets: { silver: string; gold: string };
}

export interface ChunkWorkerFigures {
  index: number;
  ms: number;
  peakRssMb: number;
}

type ChunkHandlerModule = typeof import('@lakehouse/app/src/chunk-handler');
type RuntimeModule = typeof import('@lakehouse/app/src/runtime');
type LocalS3Module = typeof import('@lakehouse/local-s3');

async function measure(): Promise<ChunkWorkerFigures> {
  const [jobFile, workDir, memoryMb] = process.argv.slice(2) as [string, string, string];
  const job = JSON.parse(await readFile(jobFile, 'utf8')) as ChunkWorkerJob;
  const { handleChunkStep } = require('@lakehouse/app/src/chunk-handler') as ChunkHandlerModule;
  const { createRuntime } = require('@lakehouse/app/src/runtime') as RuntimeModule;
  const { LOCAL_CREDENTIALS } = require('@lakehouse/local-s3') as LocalS3Module;
  // The function's client takes its credentials from the SDK's default chain, as on Lambda.
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  const rt = createRuntime(localFunctionConfig({ endpoint: job.endpoint, buckets: job.buckets, workDir, memoryMb }));
  const started = performance.now();
  const done = await handleChunkStep(job.input, rt);
  const ms = performance.now() - started;
  rt.s3.destroy();
  return { index: (done as { index: number }).index, ms: Math.round(ms), peakRssMb: peakRssMb() };
}

replyToParent(measure);
