/**
 * Child: the handler's cold start in a fresh process. Times loading the
 * handler modules, the first ingestion (which creates the runtime and the
 * DuckDB instance) and a second, warm one, through handleS3Event as the
 * Lambda runtime calls it, against a local S3 server.
 *
 *   cold-start.ts <first csv> <second csv> <work dir> <lambda memory MB>
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { peakRssMb, replyToParent } from '../child-process';

export interface ColdStartFigures {
  loadModulesMs: number;
  firstIngestionMs: number;
  warmIngestionMs: number;
  statuses: string[];
  peakRssMb: number;
}

type HandlerModule = typeof import('@lakehouse/app/src/handler');
type RuntimeModule = typeof import('@lakehouse/app/src/runtime');
type LocalS3Module = typeof import('@lakehouse/local-s3');
type LocalFunctionModule = typeof import('../local-function');

const BUCKETS = { raw: 'raw', silver: 'silver', gold: 'gold' };

async function measure(): Promise<ColdStartFigures> {
  const [firstCsv, secondCsv, workDir, memoryMb] = process.argv.slice(2) as [string, string, string, string];

  // Loaded first: the local S3 server shares the handler's SDK, which would otherwise be in the module cache already.
  const loadStarted = performance.now();
  const { handleS3Event } = require('@lakehouse/app/src/handler') as HandlerModule;
  const { createRuntime } = require('@lakehouse/app/src/runtime') as RuntimeModule;
  const loadModulesMs = performance.now() - loadStarted;

  const { localFunctionConfig } = require('../local-function') as LocalFunctionModule;
  const { startLocalS3, LOCAL_CREDENTIALS } = require('@lakehouse/local-s3') as LocalS3Module;
  const s3 = await startLocalS3({ buckets: Object.values(BUCKETS), directory: join(workDir, 's3') });
  try {
    // The handler's client takes its credentials from the SDK's default chain, as on Lambda.
    process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
    const client = s3.client();
    const upload = async (key: string, path: string): Promise<S3Event> => {
      const notified = new Promise<S3EventRecord>((resolve) => {
        const unsubscribe = s3.onObjectCreated((record) => {
          if (record.s3.bucket.name !== BUCKETS.raw) return;
          unsubscribe();
          resolve(record);
        });
      });
      const { PutObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      await client.send(new PutObjectCommand({ Bucket: BUCKETS.raw, Key: key, Body: await readFile(path) }));
      return { Records: [await notified] };
    };

    const firstEvent = await upload('trips/bench/cold-start-first.csv', firstCsv);
    const firstStarted = performance.now();
    const rt = createRuntime(localFunctionConfig({ endpoint: s3.endpoint, buckets: BUCKETS, workDir, memoryMb }));
    const first = await handleS3Event(firstEvent, rt);
    const firstIngestionMs = performance.now() - firstStarted;

    const secondEvent = await upload('trips/bench/cold-start-second.csv', secondCsv);
    const warmStarted = performance.now();
    const second = await handleS3Event(secondEvent, rt);
    const warmIngestionMs = performance.now() - warmStarted;

    rt.s3.destroy();
    client.destroy();
    return {
      loadModulesMs: Math.round(loadModulesMs),
      firstIngestionMs: Math.round(firstIngestionMs),
      warmIngestionMs: Math.round(warmIngestionMs),
      statuses: [...first, ...second].map((outcome) => outcome.status),
      peakRssMb: peakRssMb(),
    };
  } finally {
    await s3.close();
  }
}

replyToParent(measure);
