import type { DuckDBConnection } from '@duckdb/node-api';

/** Where an object's processing is: what a long event shows while it runs. */
export type IngestStage = 'downloading' | 'staging' | 'writing silver' | 'uploading' | 'gold';

export interface ProgressUpdate {
  stage: IngestStage;
  /** Bytes transferred, or percent of the stage's query, when known. */
  done?: number;
  total?: number;
  unit?: 'bytes' | 'percent';
}

/** Receives progress of the object being processed; absent on AWS, where nobody watches. */
export type ProgressSink = (update: ProgressUpdate) => void;

const POLL_MS = 500;

/**
 * Runs `work` on the connection, reporting the query's progress (DuckDB's own
 * estimate) to `sink` while it runs. Without a sink it only runs `work`.
 */
export async function withQueryProgress<T>(
  connection: DuckDBConnection,
  stage: IngestStage,
  sink: ProgressSink | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (!sink) return work();
  sink({ stage });
  await connection.run('set enable_progress_bar = true; set enable_progress_bar_print = false');
  const timer = setInterval(() => {
    const { percentage } = connection.progress;
    if (percentage >= 0) sink({ stage, done: Math.floor(percentage), total: 100, unit: 'percent' });
  }, POLL_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
