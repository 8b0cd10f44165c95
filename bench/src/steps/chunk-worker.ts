import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { planFile } from '@lakehouse/app/src/chunks/phases/plan';
import { loadDatasets } from '@lakehouse/app/src/datasets';
import { CHUNK_STEP, chunkManifestKey } from '@lakehouse/contract';
import { startLocalS3 } from '@lakehouse/local-s3';
import { runChildScript } from '../child-process';
import type { ChunkWorkerFigures, ChunkWorkerJob } from '../children/chunk-worker';
import type { ChunkSettings } from '../lakehouse-process';
import { localFunctionConfig } from '../local-function';
import { BUCKETS, localClient, uploadFile } from '../s3-objects';
import { scratchDir } from '../scratch';
import type { TripsFile } from '../trips-files';

export type { ChunkWorkerFigures };

const WORKER_CHILD = join(__dirname, '..', 'children', 'chunk-worker.ts');
const MB = 1024 * 1024;

export interface ChunkWorkerResult extends ChunkWorkerFigures {
  /** The chunk's bytes of the file. */
  bytes: number;
}

/**
 * One chunk's worker on its own, as the chunk function runs on AWS: the file
 * is planned here (beside a local S3 server of its own), then its largest
 * chunk runs in a fresh process through the chunk function's entry point.
 * In the lakehouse, chunks share its process and its DuckDB instance, so
 * this is the only way to read one worker's peak.
 */
export async function runChunkWorker(
  file: TripsFile,
  chunks: ChunkSettings,
  memoryMb: number,
): Promise<ChunkWorkerResult> {
  const dir = await scratchDir('chunk-worker');
  const workDirs = { plan: join(dir, 'plan'), worker: join(dir, 'worker') };
  for (const workDir of Object.values(workDirs)) await mkdir(workDir);
  const s3 = await startLocalS3({ buckets: Object.values(BUCKETS), directory: join(dir, 's3') });
  const client = localClient(s3.endpoint);
  try {
    const key = `trips/bench/chunk-worker-${file.rows}.csv`;
    await uploadFile(client, BUCKETS.raw, key, file.path);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKETS.raw, Key: key }));
    const cfg = localFunctionConfig({ endpoint: s3.endpoint, buckets: BUCKETS, workDir: workDirs.plan, memoryMb });
    const dataset = loadDatasets().get('trips');
    if (!dataset) throw new Error('the trips dataset is missing');
    const raw = { bucket: BUCKETS.raw, key, eTag: head.ETag, size: head.ContentLength };
    const planned = await planFile(raw, dataset, { s3: client, cfg }, chunks.mb * MB, () => new Date());
    if ('notSplit' in planned) throw new Error(`the file was not split: ${planned.notSplit}`);
    const size = (item: { start: number; end: number }) => item.end - item.start;
    const item = planned.items.reduce((largest, next) => (size(next) > size(largest) ? next : largest));
    const job: ChunkWorkerJob = {
      input: { step: CHUNK_STEP.chunk, context: planned.context, item },
      endpoint: s3.endpoint,
      buckets: BUCKETS,
    };
    const jobFile = join(dir, 'job.json');
    await writeFile(jobFile, JSON.stringify(job));
    const figures = await runChildScript<ChunkWorkerFigures>(WORKER_CHILD, [
      jobFile,
      workDirs.worker,
      String(memoryMb),
    ]);
    // The worker's part manifest is what the commit reads: without it, the chunk was not done.
    const manifest = chunkManifestKey(key, planned.context.version, item.index);
    await client.send(new HeadObjectCommand({ Bucket: BUCKETS.silver, Key: manifest }));
    return { ...figures, bytes: size(item) };
  } finally {
    client.destroy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
}
