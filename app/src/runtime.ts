import { randomUUID } from 'node:crypto';
import { GlueClient } from '@aws-sdk/client-glue';
import type { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SilverGlueTables } from './catalog/silver-glue-table';
import { StateMachineChunkExecutions } from './chunks/chunk-executions';
import type { ChunkOptions } from './chunks/ingest-in-chunks';
import { type Config, config } from './config';
import { type Dataset, loadDatasets } from './datasets';
import { applyToGold, type GoldResult } from './gold/apply-to-gold';
import { type GoldMessage, type GoldQueue, InProcessGoldQueue, SqsGoldQueue } from './gold/gold-queue';
import { switchGeneration } from './gold/switch-generation';
import { ObjectCache } from './io/object-cache';
import { createS3Client } from './io/s3-io';
import { goldCacheFolder, removeLeftovers } from './io/work-dir';
import type { ProgressSink } from './progress';

/** What one container keeps between warm invocations. */
export interface Runtime {
  cfg: Config;
  s3: S3Client;
  datasets: ReadonlyMap<string, Dataset>;
  gold: GoldQueue;
  applyGold(job: GoldMessage): Promise<GoldResult | undefined>;
  /** Where an object's processing is; set where someone watches (the local lakehouse). */
  progress?: ProgressSink;
  /** With GLUE_DATABASE (on AWS): the Glue tables of datasets without a folder. */
  silverTables?: SilverGlueTables;
  /** Files above a size processed in chunks: by the local lakehouse (`--chunk-mb`), or on AWS by the chunk state machine. */
  chunks?: ChunkOptions;
}

export function createRuntime(
  cfg: Config,
  datasets: ReadonlyMap<string, Dataset> = loadDatasets(),
  s3: S3Client = createS3Client(cfg),
): Runtime {
  let cache: ObjectCache | undefined;
  const applyGold = async (job: GoldMessage) => {
    const dataset = datasets.get(job.dataset);
    if (!dataset) return undefined;
    // Gold state objects are immutable: a warm container reads them from /tmp instead of S3.
    cache ??= new ObjectCache(goldCacheFolder(cfg.workDir, randomUUID().slice(0, 8)), cfg.goldCacheBytes);
    const deps = { s3, cfg, cache };
    return 'switchTo' in job ? switchGeneration(job, dataset, deps) : applyToGold(job, dataset, deps);
  };
  const gold = cfg.goldQueueUrl
    ? new SqsGoldQueue(new SQSClient({ region: cfg.region }), cfg.goldQueueUrl)
    : new InProcessGoldQueue(applyGold);
  const silverTables = cfg.glueDatabase
    ? new SilverGlueTables(new GlueClient({ region: cfg.region }), cfg.glueDatabase, cfg.silverBucket)
    : undefined;
  const chunks: ChunkOptions | undefined = cfg.chunks
    ? {
        chunkBytes: cfg.chunks.thresholdBytes,
        executions: new StateMachineChunkExecutions(new SFNClient({ region: cfg.region }), cfg.chunks.stateMachineArn),
      }
    : undefined;
  return {
    cfg,
    s3,
    datasets,
    gold,
    applyGold,
    ...(silverTables ? { silverTables } : {}),
    ...(chunks ? { chunks } : {}),
  };
}

let current: Runtime | undefined;
/**
 * The container's runtime, created on first invocation from the environment,
 * after clearing what an earlier container's timed-out invocation left in /tmp.
 */
export function runtime(): Runtime {
  if (!current) {
    const cfg = config();
    removeLeftovers(cfg.workDir);
    current = createRuntime(cfg);
  }
  return current;
}
