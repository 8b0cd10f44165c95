import { loadConfig } from '@lakehouse/app/src/config';
import { ENV } from '@lakehouse/contract';

export interface DuckdbSizing {
  memoryLimitMb: number;
  threads: number;
}

/** DuckDB's memory limit and threads as the handler would set them in a Lambda function of `memoryMb`. */
export function duckdbSizingForLambda(memoryMb: number): DuckdbSizing {
  const cfg = loadConfig({
    // Required by loadConfig, unused here.
    [ENV.silverBucket]: 'silver',
    [ENV.goldBucket]: 'gold',
    [ENV.lambdaMemoryMb]: String(memoryMb),
  });
  return { memoryLimitMb: cfg.duckdb.memoryLimitMb, threads: cfg.duckdb.threads };
}
