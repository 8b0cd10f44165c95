import { type Config, loadConfig } from '@lakehouse/app/src/config';
import { ENV } from '@lakehouse/contract';
import { LOCAL_REGION } from '@lakehouse/local-s3';

export interface LocalFunction {
  /** The local S3 server, and its silver and gold buckets. */
  endpoint: string;
  buckets: { silver: string; gold: string };
  workDir: string;
  /** The Lambda function's memory: DuckDB is sized from it. */
  memoryMb: number | string;
}

/** A function's configuration as its environment on Lambda would give it, against a local S3 server. */
export function localFunctionConfig({ endpoint, buckets, workDir, memoryMb }: LocalFunction): Config {
  return loadConfig({
    [ENV.silverBucket]: buckets.silver,
    [ENV.goldBucket]: buckets.gold,
    [ENV.s3Endpoint]: endpoint,
    [ENV.region]: LOCAL_REGION,
    [ENV.workDir]: workDir,
    [ENV.lambdaMemoryMb]: String(memoryMb),
  });
}
