import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { withConnection } from '../io/duckdb';
import { downloadToFile, inParallel } from '../io/s3-io';
import { invocationFolder } from '../io/work-dir';
import type { GoldManifest } from './gold-state';
import { runsWithUploadTimes } from './state-runs';

/** The last commit that applied a silver file, and the upload time it applied it with (none before they were kept). */
export interface AppliedFile {
  commit: number;
  uploadedAt?: number;
}

/**
 * The silver files a gold state has applied, with the last commit that
 * applied each: what reconcile compares silver against, and what a backfill's
 * switch catches up on. Read in full, so it is for tools, not for every commit.
 */
export async function readAppliedLedger(
  s3: S3Client,
  cfg: Pick<Config, 'goldBucket' | 'workDir' | 'duckdb'>,
  manifest: GoldManifest,
): Promise<Map<string, AppliedFile>> {
  const applied = new Map<string, AppliedFile>();
  const runs = manifest.applied.runs;
  if (runs.length === 0) return applied;
  const dir = await invocationFolder(cfg.workDir, 'ledger');
  try {
    const paths = runs.map((_, i) => join(dir, `${i}.parquet`));
    await inParallel(
      runs.map((run, i) => ({ run, path: paths[i] as string })),
      8,
      async ({ run, path }) => {
        await downloadToFile(s3, { bucket: cfg.goldBucket, key: run.key }, path);
      },
    );
    await withConnection(cfg, async (connection) => {
      const reader = await connection.runAndReadAll(
        `select silver_key, max(_commit) as last_commit, arg_max_null(_uploaded_at, _commit) as uploaded_at
         from ${await runsWithUploadTimes(connection, paths)} group by 1`,
      );
      for (const row of reader.getRowObjectsJS()) {
        const uploadedAt = row.uploaded_at === null ? {} : { uploadedAt: Number(row.uploaded_at) };
        applied.set(String(row.silver_key), { commit: Number(row.last_commit), ...uploadedAt });
      }
    });
    return applied;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
