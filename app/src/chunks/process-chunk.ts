import { rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { chunkPartKey } from '@lakehouse/contract';
import type { Config } from '../config';
import type { Dataset } from '../datasets';
import type { CsvDialect } from '../ingest/csv-dialect';
import type { DetectedFormat } from '../ingest/formats';
import { rejectedLinesSelect } from '../ingest/read-raw';
import { PARQUET, stageDatasetFile } from '../ingest/transform';
import { copyRows, withConnection } from '../io/duckdb';
import { downloadRangeAt, downloadRangeToFile, PARQUET_TYPE, uploadFile } from '../io/s3-io';
import { invocationFolder } from '../io/work-dir';
import type { ByteRange, RowGroupChunk, TextChunk } from './plan-chunks';
import { scanRecords } from './record-boundaries';

/** What every chunk of one file shares: the version read, the dataset, and how its start reads. */
export interface ChunkJob {
  s3: S3Client;
  cfg: Pick<Config, 'silverBucket' | 'workDir' | 'duckdb'>;
  object: { bucket: string; key: string; eTag: string; versionId?: string };
  /** The version the output keys are named by (as the single-invocation path names them). */
  version: string;
  dataset: Dataset;
  source: CsvSource | ParquetSource;
}

export interface CsvSource {
  format: 'csv';
  detected: DetectedFormat;
  dialect: CsvDialect;
  /** The header line, put in front of every chunk but the first. */
  header?: Buffer;
}

export interface ParquetSource {
  format: 'parquet';
  size: number;
  footer: ByteRange;
}

/**
 * One chunk's parts in the silver bucket's staging prefix, and what the
 * commit needs to number its rows: its staged rows (the dataset's SQL and
 * rules applied, as the single-invocation path stages a whole file) and the
 * CSV lines it could not read. Plain JSON: on AWS it travels between steps.
 */
export interface ChunkPart {
  index: number;
  /** The staged rows (as one invocation stages them, in zstd: the part goes through S3): every row read, in order. */
  stagedKey: string;
  /** The lines that could not be read as the header says, numbered in the chunk; only when there are some. */
  linesKey?: string;
  /** Rows read (silver and rule rejects): the next chunk's rows are numbered after them. */
  stagedRows: number;
  /** CSV lines that could not be read as the header says. */
  rejectedLines: number;
  /** Bytes of the staged part and the lines part: what the commit downloads. */
  partBytes: number;
  /** The chunk's own line feeds (not the header's put in front). */
  lineFeeds: number;
  /** Lines put in front of the chunk (its header): its rejected lines are numbered past them. */
  prefixLines: number;
}

/** A chunk that is not whole records (a quoted line break the plan's windows missed): the file is read whole. */
export class NotSplittableError extends Error {
  override name = 'NotSplittableError';
}

/**
 * One chunk, as the single-invocation path stages a whole file: ranged GET ->
 * DuckDB (the dataset's SQL and rules) -> a staged part and, when some lines
 * could not be read, a lines part, numbered within the chunk. The commit
 * publishes every part at once, numbered in the whole file, so each row is
 * encoded to silver once, as one invocation encodes it. Parts are
 * deterministic keys: a retried chunk overwrites its own.
 */
export async function processChunk(job: ChunkJob, chunk: TextChunk | RowGroupChunk): Promise<ChunkPart> {
  const { s3, cfg, source } = job;
  const dir = await invocationFolder(cfg.workDir, 'chunk', String(chunk.index));
  try {
    const input =
      source.format === 'csv'
        ? await downloadCsvChunk(job, source, chunk, dir)
        : // A Parquet file is planned by row groups: its chunks are row-group chunks.
          await downloadParquetChunk(job, source, chunk as RowGroupChunk, dir);
    const paths = { staged: join(dir, 'staged.parquet'), lines: join(dir, 'lines.parquet') };
    const result = await withConnection(cfg, async (connection) => {
      const staged = await stageDatasetFile(connection, job.dataset, input, paths.staged, 'zstd');
      if (staged.rejectedLines > 0) await copyRows(connection, rejectedLinesSelect(), paths.lines, PARQUET);
      return staged;
    });
    // The chunk's input is read: free its temp storage before the upload.
    await rm(input.path, { force: true });
    const stagedKey = chunkPartKey(job.object.key, job.version, chunk.index, 'staged');
    const linesKey =
      result.rejectedLines > 0 ? chunkPartKey(job.object.key, job.version, chunk.index, 'lines') : undefined;
    if (linesKey) await uploadFile(s3, cfg.silverBucket, linesKey, paths.lines, PARQUET_TYPE);
    await uploadFile(s3, cfg.silverBucket, stagedKey, paths.staged, PARQUET_TYPE);
    const partBytes = (await stat(paths.staged)).size + (linesKey ? (await stat(paths.lines)).size : 0);
    return {
      index: chunk.index,
      stagedKey,
      ...(linesKey ? { linesKey } : {}),
      ...result,
      partBytes,
      lineFeeds: input.lineFeeds,
      prefixLines: input.prefixLines,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A CSV chunk, the header line in front, checked to be whole records. */
async function downloadCsvChunk(job: ChunkJob, source: CsvSource, chunk: ByteRange & { index: number }, dir: string) {
  const path = join(dir, 'input.csv');
  const prefix = chunk.index > 0 && source.header ? source.header : Buffer.alloc(0);
  await downloadRangeToFile(job.s3, job.object, chunk, path, prefix);
  const scanned = await scanRecords(path, prefix.length, source.dialect.quote);
  const where = `chunk ${chunk.index} (bytes ${chunk.start}-${chunk.end - 1})`;
  if (scanned.quotedLineBreak) {
    throw new NotSplittableError(`${where} is not whole records: a quoted field holds a line break`);
  }
  if (scanned.startsWithLoneCarriageReturn) {
    throw new NotSplittableError(`${where} starts with a carriage return no line feed follows`);
  }
  if (scanned.unexpectedQuote) {
    throw new NotSplittableError(`${where} holds a double quote, but the file's first rows show no quoting`);
  }
  return {
    path,
    detected: source.detected,
    read: { dialect: source.dialect },
    lineFeeds: scanned.lineFeeds,
    prefixLines: prefix.length > 0 ? 1 : 0,
  };
}

/**
 * A Parquet chunk: a sparse local file of the object's size holding only the
 * chunk's row groups and the footer, at their offsets; the rows are read
 * through a filter on their row numbers, which skips the other row groups.
 */
async function downloadParquetChunk(job: ChunkJob, source: ParquetSource, chunk: RowGroupChunk, dir: string) {
  const path = join(dir, 'input.parquet');
  await writeFile(path, '');
  await truncate(path, source.size);
  await downloadRangeAt(job.s3, job.object, source.footer, path);
  await downloadRangeAt(job.s3, job.object, chunk, path);
  const detected: DetectedFormat = { format: 'parquet', compression: 'none' };
  return {
    path,
    detected,
    read: { rows: { first: chunk.rowsBefore, count: chunk.rows } },
    lineFeeds: 0,
    prefixLines: 0,
  };
}
