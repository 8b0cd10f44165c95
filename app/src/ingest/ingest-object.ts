import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { datasetOf, quarantineKey, rejectsKey, silverKey } from '@lakehouse/contract';
import type { Config } from '../config';
import type { Dataset } from '../datasets';
import { messageOf, PoisonFileError, SourceGoneError } from '../errors';
import type { GoldQueue } from '../gold/gold-queue';
import { withConnection } from '../io/duckdb';
import { downloadToFile, putJson, uploadFile } from '../io/s3-io';
import { verifyCompressedFile } from './compression';
import { detectFormat } from './formats';
import { loadRawInput, peekCompressedText } from './read-raw';
import { writeDatasetSilver, writeGenericSilver } from './transform';

/** One object version named by an S3 event. */
export interface RawObject {
  bucket: string;
  /** Decoded key. */
  key: string;
  eTag?: string;
  versionId?: string;
  size?: number;
}

export type IngestOutcome =
  | {
      status: 'ingested';
      dataset: string;
      format: string;
      silverKey: string;
      rejectsKey?: string;
      silverRows: number;
      rejectedRows: number;
    }
  | { status: 'quarantined'; dataset: string; quarantineKey: string; reason: string; error: string }
  | { status: 'skipped'; reason: string };

export interface IngestDeps {
  s3: S3Client;
  cfg: Pick<Config, 'silverBucket' | 'maxObjectBytes' | 'workDir' | 'duckdb'>;
  datasets: ReadonlyMap<string, Dataset>;
  gold: GoldQueue;
  now?: () => Date;
}

const PARQUET_TYPE = 'application/vnd.apache.parquet';

/**
 * Raw object -> silver Parquet (+ rejects) -> gold job. A file that can never
 * be processed gets a quarantine record instead; S3 and other transient
 * errors propagate so that Lambda retries. The raw object is only read.
 */
export async function ingestObject(raw: RawObject, deps: IngestDeps): Promise<IngestOutcome> {
  const { s3, cfg } = deps;
  const dataset = datasetOf(raw.key);
  const definition = deps.datasets.get(dataset);
  const dir = await mkdtemp(join(cfg.workDir, 'ingest-'));
  let version = raw.versionId ?? raw.eTag ?? '';
  try {
    if (raw.size !== undefined && raw.size > cfg.maxObjectBytes) {
      throw new PoisonFileError('too-large', `${raw.size} bytes is over the limit of ${cfg.maxObjectBytes}`);
    }
    const inputPath = join(dir, 'input');
    const downloaded = await downloadToFile(s3, raw, inputPath);
    version = downloaded.versionId ?? downloaded.eTag;
    if (downloaded.bytes > cfg.maxObjectBytes) {
      throw new PoisonFileError('too-large', `${downloaded.bytes} bytes is over the limit of ${cfg.maxObjectBytes}`);
    }
    if (downloaded.bytes === 0) throw new PoisonFileError('empty', 'the object has no content');

    const outputs = { silver: join(dir, 'silver.parquet'), rejects: join(dir, 'rejects.parquet') };
    const { detected, result } = await withConnection(cfg, async (connection) => {
      const detected = await detectFormat(inputPath, raw.key, (path, compression) =>
        peekCompressedText(connection, path, compression),
      );
      await verifyCompressedFile(inputPath, detected.compression);
      const { columns, rows } = await loadRawInput(connection, inputPath, detected, {
        allVarchar: definition !== undefined,
      });
      if (rows === 0) throw new PoisonFileError('empty', `the ${detected.format} file has no rows`);
      const lineage = {
        sourceKey: raw.key,
        sourceEtag: downloaded.eTag,
        sourceVersionId: downloaded.versionId,
        ingestedAt: (deps.now ?? (() => new Date()))(),
      };
      const result = definition
        ? await writeDatasetSilver(connection, definition, columns, lineage, outputs)
        : await writeGenericSilver(connection, lineage, outputs.silver);
      await connection.run('drop table if exists raw_input');
      return { detected, result };
    });

    const outputKey = silverKey(raw.key, version);
    await uploadFile(s3, cfg.silverBucket, outputKey, outputs.silver, PARQUET_TYPE);
    let rejectedKey: string | undefined;
    if (result.rejectedRows > 0) {
      rejectedKey = rejectsKey(raw.key, version);
      await uploadFile(s3, cfg.silverBucket, rejectedKey, outputs.rejects, PARQUET_TYPE);
    }
    if (definition && definition.goldTables.length > 0) {
      await deps.gold.submit({ dataset, silverKey: outputKey });
    }
    return {
      status: 'ingested',
      dataset,
      format: detected.compression === 'none' ? detected.format : `${detected.format}+${detected.compression}`,
      silverKey: outputKey,
      ...(rejectedKey ? { rejectsKey: rejectedKey } : {}),
      ...result,
    };
  } catch (error) {
    if (error instanceof SourceGoneError) return { status: 'skipped', reason: error.message };
    if (!(error instanceof PoisonFileError)) throw error;
    const recordKey = quarantineKey(raw.key, version);
    await putJson(s3, cfg.silverBucket, recordKey, {
      bucket: raw.bucket,
      key: raw.key,
      etag: raw.eTag ?? null,
      versionId: raw.versionId ?? null,
      dataset,
      reason: error.reason,
      error: messageOf(error),
      quarantinedAt: (deps.now ?? (() => new Date()))().toISOString(),
    });
    return { status: 'quarantined', dataset, quarantineKey: recordKey, reason: error.reason, error: error.message };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
