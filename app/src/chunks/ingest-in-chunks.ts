import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chunkPartsPrefix, rejectsKey, silverKey } from '@lakehouse/contract';
import type { Dataset } from '../datasets';
import { messageOf, PoisonFileError, SourceGoneError } from '../errors';
import type { CsvDialect } from '../ingest/csv-dialect';
import { type DetectedFormat, detectFormat } from '../ingest/formats';
import type { IngestDeps, IngestOutcome, Quarantined, RawObject } from '../ingest/ingest-object';
import { csvDialectOf } from '../ingest/read-raw';
import type { Lineage } from '../ingest/transform';
import { withConnection } from '../io/duckdb';
import { deleteObject, downloadToFile, listKeys, openRanged, type RangedObject, uploadFile } from '../io/s3-io';
import { conformToSchema } from '../schema/conform-silver';
import { assembleParts } from './commit-chunks';
import { type ByteRange, HEAD_BYTES, planChunks, type RowGroupChunk, type TextChunk } from './plan-chunks';
import {
  type ChunkJob,
  type ChunkPart,
  type CsvSource,
  NotSplittableError,
  PARQUET_TYPE,
  processChunk,
} from './process-chunk';

/** How a file above `chunkBytes` is processed in chunks (the local lakehouse's `--chunk-mb`). */
export interface ChunkOptions {
  chunkBytes: number;
  /** Chunks processed at once. */
  concurrency: number;
  /** Waits before each retry of a failed chunk (backoff); a chunk that fails them all quarantines the file. */
  retryDelaysMs: readonly number[];
}

/** Not processed in chunks, and why: the single-invocation path processes the file and the event line says why. */
export interface NotSplit {
  notSplit: string;
}

/** DuckDB sniffs a CSV's dialect from its first rows: every chunk is read with the dialect of the same rows. */
const SNIFF_ROWS = 20_480;
const SAMPLE_PIECE_BYTES = 1024 * 1024;
const SAMPLE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A file above the chunk size, in chunks: plan (small ranged GETs), every
 * chunk to a silver and a rejects part under a staging prefix (at most
 * `concurrency` at once, each retried with backoff), then one commit that
 * assembles the file's silver and rejects objects, publishes them as the
 * single-invocation path does, submits one gold job, and removes the parts.
 * What cannot be split exactly comes back as `NotSplit`. A chunk that fails
 * for good quarantines the file, naming the chunk, and leaves no part.
 */
export async function ingestInChunks(
  raw: RawObject,
  dataset: Dataset,
  deps: IngestDeps,
  options: ChunkOptions,
  now: () => Date,
  quarantine: (version: string, error: PoisonFileError) => Promise<Quarantined>,
): Promise<IngestOutcome | NotSplit> {
  const { s3, cfg } = deps;
  const dir = await mkdtemp(join(cfg.workDir, 'chunked-'));
  try {
    const object = await openRanged(s3, raw, HEAD_BYTES);
    const plan = await withConnection(cfg, (connection) =>
      planChunks(object, { chunkBytes: options.chunkBytes, connection, workDir: dir }),
    );
    if (plan.mode === 'single') return { notSplit: plan.reason };
    if (plan.format === 'json') {
      return {
        notSplit:
          'newline-delimited JSON is planned in chunks but read whole: its columns and types are inferred from every record',
      };
    }
    const version = object.versionId ?? object.eTag;
    const source =
      plan.mode === 'row-groups'
        ? ({ format: 'parquet', size: plan.size, footer: plan.footer } as const)
        : await csvSource(object, plan.header, dir, cfg);
    if ('notSplit' in source) return source;
    const lineage: Lineage = {
      sourceKey: raw.key,
      sourceEtag: object.eTag,
      sourceVersionId: object.versionId,
      ingestedAt: now(),
    };
    const job: ChunkJob = {
      s3,
      cfg,
      object: {
        bucket: object.bucket,
        key: object.key,
        eTag: object.eTag,
        ...(object.versionId ? { versionId: object.versionId } : {}),
      },
      version,
      dataset,
      source,
      lineage,
    };
    let parts: ChunkPart[];
    try {
      const chunks: ReadonlyArray<TextChunk | RowGroupChunk> = plan.chunks;
      parts = await runChunks(chunks, options, (chunk) => processChunk(job, chunk));
    } catch (error) {
      await removeParts(deps, raw.key, version);
      if (error instanceof NotSplittableError) return { notSplit: error.message };
      if (error instanceof ChunkFailedError) {
        const { chunk, cause } = error;
        const where = `chunk ${chunk.index} of ${plan.chunks.length} (bytes ${chunk.start}-${chunk.end - 1})`;
        if (cause instanceof SourceGoneError) throw cause;
        const poison =
          cause instanceof PoisonFileError
            ? new PoisonFileError(cause.reason, `${where}: ${cause.message}`, { cause })
            : new PoisonFileError(
                'chunk-failed',
                `${where} failed after ${error.attempts} attempts: ${messageOf(cause)}; no part of the file was published`,
                { cause },
              );
        return { ...(await quarantine(version, poison)), chunks: plan.chunks.length };
      }
      throw error;
    }
    try {
      return await commit(raw, dataset, deps, { format: plan.format, version, parts, dir, lineage });
    } catch (error) {
      if (error instanceof PoisonFileError) return { ...(await quarantine(version, error)), chunks: parts.length };
      throw error;
    } finally {
      await removeParts(deps, raw.key, version);
    }
  } catch (error) {
    if (error instanceof SourceGoneError) return { status: 'skipped', reason: error.message };
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * How every chunk of a CSV is read: with DuckDB's sniff of the file's first
 * rows (as many as it samples from the whole file), checked against the
 * header line, as the single-invocation path reads it; the header line put
 * in front of every chunk but the first.
 */
async function csvSource(
  object: RangedObject,
  headerRange: ByteRange | undefined,
  dir: string,
  cfg: IngestDeps['cfg'],
): Promise<NotSplit | CsvSource> {
  const path = join(dir, 'sample.csv');
  if (!(await writeFirstRows(object, path))) {
    return { notSplit: `no ${SNIFF_ROWS} rows in the first ${SAMPLE_MAX_BYTES} bytes to read the dialect from` };
  }
  let detected: DetectedFormat;
  let dialect: CsvDialect;
  try {
    detected = await detectFormat(path, object.key);
    if (detected.format !== 'csv' || detected.compression !== 'none')
      return { notSplit: 'its start does not read as CSV' };
    dialect = await withConnection(cfg, (connection) => csvDialectOf(connection, path, detected));
  } catch (error) {
    // The single-invocation path says what the file is.
    if (error instanceof PoisonFileError) return { notSplit: `its start cannot be read: ${error.message}` };
    throw error;
  }
  if (dialect.escape && dialect.escape !== dialect.quote) {
    // A quote escaped by another character cannot be told from one that closes a field by counting quotes.
    return {
      notSplit: `its quotes are escaped with ${JSON.stringify(dialect.escape)}: record boundaries are found by counting quotes`,
    };
  }
  const header = dialect.header && headerRange ? await object.read(headerRange.start, headerRange.end) : undefined;
  return { format: 'csv', detected, dialect, ...(header ? { header } : {}) };
}

/**
 * The file's first bytes up to a record boundary, holding the rows DuckDB's
 * sniffer samples (or the whole file), written to `path` piece by piece.
 * False when the rows are too long to sample within SAMPLE_MAX_BYTES.
 */
async function writeFirstRows(object: RangedObject, path: string): Promise<boolean> {
  const file = await open(path, 'w');
  try {
    let lineFeeds = 0;
    for (let at = 0; at < object.size; at += SAMPLE_PIECE_BYTES) {
      if (at >= SAMPLE_MAX_BYTES) return false;
      const piece = await object.read(at, Math.min(object.size, at + SAMPLE_PIECE_BYTES));
      for (let i = piece.indexOf(0x0a); i >= 0; i = piece.indexOf(0x0a, i + 1)) {
        if (++lineFeeds > SNIFF_ROWS + 1) {
          await file.write(piece, 0, i + 1, at);
          return true;
        }
      }
      await file.write(piece, 0, piece.length, at);
    }
    return true;
  } finally {
    await file.close();
  }
}

/** A chunk that failed after its retries. */
class ChunkFailedError extends Error {
  override name = 'ChunkFailedError';
  constructor(
    readonly chunk: ByteRange & { index: number },
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(`chunk ${chunk.index} failed after ${attempts} attempts: ${messageOf(cause)}`, { cause });
  }
}

/** What a retry cannot change: the file itself, or its being gone. */
const isFinal = (error: unknown) =>
  error instanceof PoisonFileError || error instanceof NotSplittableError || error instanceof SourceGoneError;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Every chunk, at most `concurrency` at once, each retried after the delays.
 * After a failure no new chunk starts, and the failure is thrown once the
 * running ones have stopped, so nothing writes a part after the cleanup.
 */
async function runChunks<C extends ByteRange & { index: number }, T>(
  chunks: readonly C[],
  { concurrency, retryDelaysMs }: ChunkOptions,
  work: (chunk: C) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  let failure: unknown;
  const attempt = async (chunk: C): Promise<T> => {
    for (let attempts = 1; ; attempts++) {
      try {
        return await work(chunk);
      } catch (error) {
        if (isFinal(error)) throw new ChunkFailedError(chunk, attempts, error);
        const delay = retryDelaysMs[attempts - 1];
        if (delay === undefined || failure) throw new ChunkFailedError(chunk, attempts, error);
        await sleep(delay);
      }
    }
  };
  const worker = async () => {
    while (!failure && next < chunks.length) {
      const chunk = chunks[next++] as C;
      try {
        results[chunk.index] = await attempt(chunk);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
  if (failure) {
    const { cause } = failure as ChunkFailedError;
    if (cause instanceof NotSplittableError) throw cause;
    throw failure;
  }
  return results;
}

/** Removes a file's staged parts (after its commit, or its failure). */
async function removeParts({ s3, cfg }: IngestDeps, rawKey: string, version: string): Promise<void> {
  for (const key of await listKeys(s3, cfg.silverBucket, chunkPartsPrefix(rawKey, version))) {
    await deleteObject(s3, cfg.silverBucket, key);
  }
}

/**
 * The one commit: the parts assembled into the file's silver object (and
 * rejects), its schema conformed, rejects then silver published, one gold job.
 */
async function commit(
  raw: RawObject,
  dataset: Dataset,
  { s3, cfg, gold }: IngestDeps,
  {
    format,
    version,
    parts,
    dir,
    lineage,
  }: { format: 'csv' | 'parquet'; version: string; parts: ChunkPart[]; dir: string; lineage: Lineage },
): Promise<IngestOutcome> {
  for (const part of parts) {
    await downloadToFile(
      s3,
      { bucket: cfg.silverBucket, key: part.silverKey },
      join(dir, `silver-${part.index}.parquet`),
    );
    if (part.rejectsKey) {
      await downloadToFile(
        s3,
        { bucket: cfg.silverBucket, key: part.rejectsKey },
        join(dir, `rejects-${part.index}.parquet`),
      );
    }
  }
  const paths = { silver: join(dir, 'silver.parquet'), rejects: join(dir, 'rejects.parquet') };
  const { result, schema } = await withConnection(cfg, async (connection) => {
    const result = await assembleParts(connection, parts, dir, paths, format);
    const schema = await conformToSchema(connection, {
      s3,
      bucket: cfg.silverBucket,
      dataset: dataset.name,
      evolution: dataset.schemaEvolution,
      silverPath: paths.silver,
      sourceKey: raw.key,
      now: lineage.ingestedAt,
    });
    return { result, schema };
  });
  const outputKey = silverKey(raw.key, version);
  const rejectedKey = result.rejectedRows > 0 ? rejectsKey(raw.key, version) : undefined;
  if (rejectedKey) await uploadFile(s3, cfg.silverBucket, rejectedKey, paths.rejects, PARQUET_TYPE);
  await uploadFile(s3, cfg.silverBucket, outputKey, paths.silver, PARQUET_TYPE);
  if (dataset.goldTables.length > 0) await gold.submit({ dataset: dataset.name, silverKey: outputKey });
  return {
    status: 'ingested',
    dataset: dataset.name,
    format,
    silverKey: outputKey,
    ...(rejectedKey ? { rejectsKey: rejectedKey } : {}),
    ...result,
    ...(schema.changes.length > 0 ? { schemaChanges: schema.changes } : {}),
    chunks: parts.length,
  };
}
