import { rm } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { type ChunkSettings, type LakehouseProcess, startLakehouseProcess } from '../lakehouse-process';
import { outputDigest } from '../output-digest';
import { BUCKETS, GOLD_TRIPS_PREFIX, listKeys, localClient, SILVER_TRIPS_PREFIX } from '../s3-objects';
import { scratchDir } from '../scratch';
import type { TripsFile } from '../trips-files';
import { ingestOne } from './ingest-one';

export interface PipelineFigures {
  status: string;
  /** From upload complete to the lakehouse's line for the key. */
  ms: number;
  uploadMs: number;
  /** The handler's own wall time, gold included, and of which gold. */
  handlerMs: number;
  goldMs: number | null;
  /** Of the handler's time, each step's (the lakehouse line's `stepsMs`); null when it does not report them. */
  stepsMs: Record<string, number> | null;
  silverRows: number | null;
  rejectedRows: number | null;
  peakRssMb: number | null;
  /** The silver object and the gold partitions were found by listing. */
  outputsFound: boolean;
  goldPartitions: number;
  /** Chunks the file was processed in; null when whole. */
  chunks: number | null;
  /** What a reader sees of the outputs, in one line (asked for with `digest`); see outputDigest. */
  digest?: string;
  reason?: string;
}

export interface PipelineOptions {
  /** Files above its size in chunks. */
  chunks?: ChunkSettings;
  /** Also digest the outputs after the run (not timed). */
  digest?: boolean;
}

/** A fresh local lakehouse in its own data dir, for as long as `use` runs; stopped and removed afterwards. */
export async function withLakehouse<T>(
  memoryMb: number,
  use: (lakehouse: LakehouseProcess, client: S3Client) => Promise<T>,
  chunks?: ChunkSettings,
): Promise<T> {
  const home = await scratchDir('pipeline');
  try {
    const lakehouse = await startLakehouseProcess({ dataDir: home, memoryMb, ...(chunks ? { chunks } : {}) });
    const client = localClient(lakehouse.endpoint);
    try {
      return await use(lakehouse, client);
    } finally {
      client.destroy();
      await lakehouse.stop();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * The real pipeline end to end on one file: upload to a fresh lakehouse, wait
 * for its line, check its outputs. With `chunks`, the lakehouse processes
 * files above their size in chunks.
 */
export function runPipeline(
  file: TripsFile,
  key: string,
  memoryMb: number,
  { chunks, digest }: PipelineOptions = {},
): Promise<PipelineFigures> {
  return withLakehouse(
    memoryMb,
    async (lakehouse, client) => {
      const { line, uploadMs, pipelineMs, peakRssMb } = await ingestOne(lakehouse, client, file.path, key);
      const silverKeys = await listKeys(client, BUCKETS.silver, SILVER_TRIPS_PREFIX);
      const goldKeys = (await listKeys(client, BUCKETS.gold, GOLD_TRIPS_PREFIX)).filter((k) => k.endsWith('.parquet'));
      const silverFound = line.silverKey
        ? silverKeys.includes(line.silverKey)
        : silverKeys.some((k) => k.endsWith('.parquet'));
      return {
        status: line.status,
        ms: pipelineMs,
        uploadMs,
        handlerMs: line.ms,
        goldMs: line.goldMs ?? null,
        stepsMs: line.stepsMs ?? null,
        silverRows: line.silverRows ?? null,
        rejectedRows: line.rejectedRows ?? null,
        peakRssMb,
        outputsFound: silverFound && goldKeys.length > 0,
        goldPartitions: goldKeys.length,
        chunks: line.chunks ?? null,
        ...(line.status === 'ingested' ? {} : { reason: line.reason ?? line.error ?? 'no reason given' }),
        ...(line.notSplit ? { reason: `not split: ${line.notSplit}` } : {}),
        ...(digest && line.silverKey
          ? {
              digest: await outputDigest(client, {
                silverKey: line.silverKey,
                ...(line.rejectsKey ? { rejectsKey: line.rejectsKey } : {}),
              }),
            }
          : {}),
      };
    },
    chunks,
  );
}
