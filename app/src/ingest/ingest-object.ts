import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { datasetOf, rejectsKey, SOURCE_LAST_MODIFIED_METADATA, silverKey, uploadSecond } from '@lakehouse/contract';
import { type ChunkOptions, ingestInChunks } from '../chunks/ingest-in-chunks';
import type { Config } from '../config';
import type { Dataset } from '../datasets';
import { duckdbMessage, messageOf, PoisonFileError, SourceGoneError } from '../errors';
import type { GoldQueue } from '../gold/gold-queue';
import { withConnection } from '../io/duckdb';
import { DOWNLOAD, downloadToFile, PARQUET_TYPE, uploadFile } from '../io/s3-io';
import { freeBytes, invocationFolder, isOutOfSpace, mb } from '../io/work-dir';
import { type ProgressSink, withQueryProgress } from '../progress';
import { conformToSchema } from '../schema/conform-silver';
import type { DatasetSchema, SchemaChange } from '../schema/dataset-schema';
import { StepClock, type StepsMs } from '../step-times';
import { verifyCompressedFile } from './compression';
import { type DetectedFormat, detectFormat } from './formats';
import { quarantine } from './quarantine';
import { checkRowsRead, clearRejectedLines, countRejectedLines, openRawFile } from './read-raw';
import {
  type Lineage,
  publishStaged,
  type Staged,
  stageDatasetFile,
  stageGeneric,
  type TransformPaths,
} from './transform';

/** One object version named by an S3 event. */
export interface RawObject {
  bucket: string;
  /** Decoded key. */
  key: string;
  eTag?: string;
  versionId?: string;
  size?: number;
  /**
   * Gold has applied this version's silver file already, and the file lost its
   * silver since (reconcile says so): silver is written again, and no gold job
   * is queued, since gold holds the file's rows, or the later ones that replaced them.
   */
  alreadyInGold?: boolean;
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
      /** What the file changed in its dataset's schema (new columns, wider types); absent when nothing. */
      schemaChanges?: SchemaChange[];
      /** Processed in this many chunks (a file above the chunk size). */
      chunks?: number;
      /** Above the chunk size but processed whole: why it was not split. */
      notSplit?: string;
      /** Where the time went, step by step (see step-times.ts). */
      stepsMs?: StepsMs;
      /** No gold job: gold had applied this version already (see `RawObject.alreadyInGold`). */
      alreadyInGold?: true;
    }
  | {
      status: 'quarantined';
      dataset: string;
      quarantineKey: string;
      reason: string;
      error: string;
      chunks?: number;
      notSplit?: string;
    }
  | {
      /** Planned in chunks on AWS: the chunk state machine runs them, and its commit logs the file's outcome. */
      status: 'planned';
      dataset: string;
      chunks: number;
      /** The ARN of the state machine execution that processes the file. */
      execution: string;
    }
  | { status: 'skipped'; reason: string };

export type Quarantined = Extract<IngestOutcome, { status: 'quarantined' }>;

export interface IngestDeps {
  s3: S3Client;
  cfg: Pick<Config, 'silverBucket' | 'maxObjectBytes' | 'workDir' | 'duckdb'>;
  datasets: ReadonlyMap<string, Dataset>;
  gold: GoldQueue;
  now?: () => Date;
  /** Where the object's processing is, for whoever watches (the local lakehouse); none on AWS. */
  progress?: ProgressSink;
  /** On AWS: keeps the Glue tables of datasets without a folder in step with their schemas. */
  silverTables?: { sync(schema: DatasetSchema): Promise<unknown> };
  /** Files above `chunkBytes` are processed in chunks: in process (`--chunk-mb`), or on AWS by the chunk state machine. */
  chunks?: ChunkOptions;
}

/**
 * Raw object -> silver Parquet (+ rejects) -> gold job. A file that can never
 * be processed gets a quarantine record instead; S3 and other transient
 * errors propagate so that Lambda retries. The raw object is only read.
 * With `chunks`, a larger file of a dataset with a folder is processed in
 * chunks when it can be split exactly, whole otherwise (the outcome says why).
 */
export async function ingestObject(raw: RawObject, deps: IngestDeps): Promise<IngestOutcome> {
  const now = deps.now ?? (() => new Date());
  const chunks = deps.chunks;
  if (!chunks || raw.size === undefined || raw.size <= chunks.chunkBytes) return ingestWhole(raw, deps, now);
  const dataset = datasetOf(raw.key);
  const definition = deps.datasets.get(dataset);
  const chunked = definition
    ? await ingestInChunks(raw, definition, deps, chunks, now)
    : { notSplit: 'no dataset folder: only files of a dataset with a folder are processed in chunks' };
  if ('status' in chunked) return chunked;
  return ingestNotSplit(raw, deps, chunked.notSplit);
}

/**
 * A file above the chunk size that cannot be split exactly, by the
 * single-invocation path: its outcome says why it was not split.
 */
export async function ingestNotSplit(raw: RawObject, deps: IngestDeps, notSplit: string): Promise<IngestOutcome> {
  const outcome = await ingestWhole(raw, deps, deps.now ?? (() => new Date()), notSplit);
  return outcome.status === 'skipped' ? outcome : { ...outcome, notSplit };
}

type WholeOutcome = Exclude<IngestOutcome, { status: 'planned' }>;

/** Over the size limit: what the file is, why it was not split, and what to do. */
function tooLarge(bytes: number, maxBytes: number, notSplit?: string): PoisonFileError {
  const why = notSplit
    ? `, and it cannot be processed in chunks (${notSplit}): upload it as smaller files, or uncompressed`
    : '';
  return new PoisonFileError('too-large', `${bytes} bytes is over the limit of ${maxBytes}${why}`);
}

/** The single-invocation path: the whole file downloaded and read in one pass. */
async function ingestWhole(
  raw: RawObject,
  deps: IngestDeps,
  now: () => Date,
  notSplit?: string,
): Promise<WholeOutcome> {
  const { s3, cfg } = deps;
  const dataset = datasetOf(raw.key);
  const definition = deps.datasets.get(dataset);
  const dir = await invocationFolder(cfg.workDir, 'ingest');
  let version = raw.versionId ?? raw.eTag ?? '';
  const clock = new StepClock();
  try {
    if (raw.size !== undefined && raw.size > cfg.maxObjectBytes) {
      throw tooLarge(raw.size, cfg.maxObjectBytes, notSplit);
    }
    if (raw.size !== undefined) await checkTempSpace(raw.size, cfg.workDir);
    const inputPath = join(dir, 'input');
    const progress = deps.progress;
    const downloaded = await downloadToFile(s3, raw, inputPath, {
      ...DOWNLOAD,
      ...(progress ? { onBytes: (done, total) => progress({ stage: 'downloading', done, total, unit: 'bytes' }) } : {}),
    });
    version = downloaded.versionId ?? downloaded.eTag;
    if (downloaded.bytes > cfg.maxObjectBytes) {
      throw tooLarge(downloaded.bytes, cfg.maxObjectBytes, notSplit);
    }
    if (downloaded.bytes === 0) throw new PoisonFileError('empty', 'the object has no content');
    clock.lap('download');

    const paths: TransformPaths = {
      staged: join(dir, 'staged.parquet'),
      silver: join(dir, 'silver.parquet'),
      rejects: join(dir, 'rejects.parquet'),
    };
    const lineage: Lineage = {
      sourceKey: raw.key,
      sourceEtag: downloaded.eTag,
      sourceVersionId: downloaded.versionId,
      ingestedAt: now(),
    };
    const detected = await detectFormat(inputPath, raw.key);
    await verifyCompressedFile(inputPath, detected.compression, await decompressionLimit(cfg.workDir));
    const { result, schema } = await withConnection(cfg, async (connection) => {
      const { stagedRows, rejectedLines } = await withQueryProgress(connection, 'staging', progress, () =>
        stage(connection, inputPath, detected, definition, paths.staged),
      );
      // The raw copy is no longer needed: free the temp storage before writing outputs.
      await rm(inputPath, { force: true });
      await checkRowsRead(connection, { stagedRows, rejectedLines, format: detected.format });
      clock.lap('stage');
      const result = await withQueryProgress(connection, 'writing silver', progress, () =>
        publishStaged(connection, stagedRows, lineage, paths, {
          ...(definition ? { rules: definition.rules } : {}),
          rejectedLines,
        }),
      );
      const schema = await conformToSchema(connection, {
        s3,
        bucket: cfg.silverBucket,
        dataset,
        evolution: definition?.schemaEvolution ?? 'additive',
        silverPath: paths.silver,
        sourceKey: raw.key,
        now: lineage.ingestedAt,
      });
      return { result, schema };
    }).catch((error) => {
      throw outOfMemory(error, cfg.duckdb.memoryLimitMb) ?? error;
    });
    clock.lap('publish');

    progress?.({ stage: 'uploading' });
    const outputs = await uploadOutputs(
      s3,
      cfg.silverBucket,
      { key: raw.key, version, lastModified: downloaded.lastModified },
      paths,
      result.rejectedRows,
    );
    // A dataset with a folder has its tables declared by the stack.
    if (!definition) await deps.silverTables?.sync(schema.schema);
    clock.lap('upload');
    const gold = await queueGoldJob(deps, raw, definition, outputs.silverKey);
    if (gold === 'queued') clock.lap('gold');
    return {
      status: 'ingested',
      dataset,
      format: detected.compression === 'none' ? detected.format : `${detected.format}+${detected.compression}`,
      ...outputs,
      ...result,
      ...(schema.changes.length > 0 ? { schemaChanges: schema.changes } : {}),
      ...(gold === 'already-in-gold' ? { alreadyInGold: true as const } : {}),
      stepsMs: clock.ms,
    };
  } catch (error) {
    if (error instanceof SourceGoneError) return { status: 'skipped', reason: error.message };
    if (isOutOfSpace(error)) {
      const free = await freeBytes(cfg.workDir).catch(() => 0);
      const poison = new PoisonFileError(
        'too-large',
        `ran out of temp storage processing ${mb(raw.size ?? 0)} MB (${mb(free)} MB free in WORK_DIR before cleanup): ` +
          "raise the function's ephemeral_storage_size or split the file",
        { cause: error },
      );
      return quarantine(raw, dataset, version, poison, deps, now);
    }
    if (!(error instanceof PoisonFileError)) throw error;
    return quarantine(raw, dataset, version, error, deps, now);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The file's gold job, queued once its silver object is up: none for a
 * dataset without gold, nor for a version gold has applied already.
 */
export async function queueGoldJob(
  deps: Pick<IngestDeps, 'gold' | 'progress'>,
  raw: RawObject,
  dataset: Dataset | undefined,
  silverKey: string,
): Promise<'queued' | 'already-in-gold' | 'no-gold'> {
  if (!dataset?.goldTables.length) return 'no-gold';
  if (raw.alreadyInGold) return 'already-in-gold';
  deps.progress?.({ stage: 'gold' });
  await deps.gold.submit({ dataset: dataset.name, silverKey });
  return 'queued';
}

/**
 * The silver and rejects objects of one raw version, rejects first: a silver
 * object is never there without its rejects (a failure between them is
 * retried). The silver object carries its raw object's LastModified, which
 * orders it in gold (`SOURCE_LAST_MODIFIED_METADATA`).
 */
export async function uploadOutputs(
  s3: S3Client,
  bucket: string,
  raw: { key: string; version: string; lastModified?: Date },
  paths: { silver: string; rejects: string },
  rejectedRows: number,
): Promise<{ silverKey: string; rejectsKey?: string }> {
  const outputs = {
    silverKey: silverKey(raw.key, raw.version),
    ...(rejectedRows > 0 ? { rejectsKey: rejectsKey(raw.key, raw.version) } : {}),
  };
  if (outputs.rejectsKey) await uploadFile(s3, bucket, outputs.rejectsKey, paths.rejects, PARQUET_TYPE);
  const uploaded = raw.lastModified
    ? { [SOURCE_LAST_MODIFIED_METADATA]: String(uploadSecond(raw.lastModified)) }
    : undefined;
  await uploadFile(s3, bucket, outputs.silverKey, paths.silver, PARQUET_TYPE, uploaded);
  return outputs;
}

/**
 * Temp storage a file needs: its download, then the staged file and the
 * outputs, about its size again (more for a compressed file, whose staged
 * rows are decompressed; running out then is caught as it happens).
 */
const TEMP_SPACE_FACTOR = 2;

/**
 * A file that cannot fit in the function's temp storage is quarantined at
 * once, saying what to raise, instead of failing mid-way and being retried
 * (the same file never fits on retry).
 */
async function checkTempSpace(size: number, workDir: string): Promise<void> {
  const free = await freeBytes(workDir);
  const needed = size * TEMP_SPACE_FACTOR;
  if (needed <= free) return;
  throw new PoisonFileError(
    'too-large',
    `the object is ${mb(size)} MB and needs about ${mb(needed)} MB of temp storage (the download, then the staged ` +
      `rows and the outputs); WORK_DIR has ${mb(free)} MB free: raise the function's ephemeral_storage_size ` +
      `(up to 10240 MB) or split the file`,
  );
}

/**
 * DuckDB refused an allocation over its memory limit (a Parquet page
 * declaring gigabytes, say): it never exhausts the memory, and the same file
 * on the same function would fail the same way, so it is quarantined saying
 * what to raise rather than retried.
 */
function outOfMemory(error: unknown, limitMb: number): PoisonFileError | undefined {
  for (let cause = error; cause; cause = (cause as { cause?: unknown }).cause) {
    if (!/Out of Memory Error: /.test(messageOf(cause))) continue;
    return new PoisonFileError(
      'too-large',
      `needs more memory than DuckDB's limit of ${limitMb} MB (${duckdbMessage(cause)}): raise the function's ` +
        'memory_size or split the file',
      { cause: error },
    );
  }
  return undefined;
}

/**
 * A compressed file may decompress to at most the temp storage free once it
 * is downloaded: its staged rows could need that much, and a decompression
 * bomb is stopped after reading that much instead of filling the disk.
 */
async function decompressionLimit(workDir: string): Promise<{ maxBytes: number; limitReason: string }> {
  const free = await freeBytes(workDir);
  return {
    maxBytes: free,
    limitReason:
      `the ${mb(free)} MB of temp storage free for its rows; a decompression bomb, or a file to split or to ` +
      'process with a larger ephemeral_storage_size',
  };
}

/**
 * One streaming pass over the raw file into the staged file. A CSV's types
 * are sniffed from a sample: when a later value does not fit them, the file
 * is no less valid, so the generic path reads it again with every value as text.
 */
async function stage(
  connection: DuckDBConnection,
  inputPath: string,
  detected: DetectedFormat,
  definition: Dataset | undefined,
  stagedPath: string,
): Promise<Staged> {
  const staged = async (stagedRows: number) => ({ stagedRows, rejectedLines: await countRejectedLines(connection) });
  if (definition) return stageDatasetFile(connection, definition, { path: inputPath, detected }, stagedPath);
  await openRawFile(connection, inputPath, detected, { allVarchar: false });
  await clearRejectedLines(connection);
  try {
    const stagedRows = await stageGeneric(connection, stagedPath);
    if ((await countRejectedLines(connection, 'types')) === 0) return staged(stagedRows);
  } catch (error) {
    if (detected.format !== 'csv') {
      throw new PoisonFileError('unreadable', `cannot read as ${detected.format}: ${duckdbMessage(error, inputPath)}`, {
        cause: error,
      });
    }
  }
  await openRawFile(connection, inputPath, detected, { allVarchar: true });
  await clearRejectedLines(connection);
  try {
    return staged(await stageGeneric(connection, stagedPath));
  } catch (error) {
    throw new PoisonFileError('unreadable', `cannot read as csv: ${duckdbMessage(error, inputPath)}`, { cause: error });
  }
}
