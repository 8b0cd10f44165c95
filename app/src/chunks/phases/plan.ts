import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chunkPlanKey } from '@lakehouse/contract';
import type { Dataset } from '../../datasets';
import { PoisonFileError } from '../../errors';
import type { CsvDialect } from '../../ingest/csv-dialect';
import { type DetectedFormat, detectFormat, HEAD_BYTES as FORMAT_HEAD_BYTES } from '../../ingest/formats';
import type { IngestDeps, RawObject } from '../../ingest/ingest-object';
import { csvDialectOf } from '../../ingest/read-raw';
import { withConnection } from '../../io/duckdb';
import { openRanged, putJson, type RangedObject } from '../../io/s3-io';
import { invocationFolder } from '../../io/work-dir';
import { type ByteRange, HEAD_BYTES, planChunks } from '../plan-chunks';
import type { CsvSource } from '../process-chunk';
import { CARRIAGE_RETURN, LINE_FEED } from '../record-boundaries';
import { type ChunkContext, type ChunkItem, serialiseSource } from './context';

/** Not processed in chunks, and why: the single-invocation path processes the file and the event line says why. */
export interface NotSplit {
  notSplit: string;
}

/** A planned file: what its steps share, its items, and the object that holds them (the map's item source). */
export interface PlannedFile {
  context: ChunkContext;
  items: ChunkItem[];
  plan: { bucket: string; key: string };
}

/** DuckDB sniffs a CSV's dialect from its first rows: every chunk is read with the dialect of the same rows. */
const SNIFF_ROWS = 20_480;
const SAMPLE_PIECE_BYTES = 1024 * 1024;
const SAMPLE_MAX_BYTES = 64 * 1024 * 1024;
/** The context is the state machine's input, under Step Functions' 256 KB payload limit with room to spare. */
export const MAX_CONTEXT_BYTES = 128 * 1024;

/**
 * The plan step: a raw object above the chunk size planned with small ranged
 * GETs, its items written as one JSON array to the silver bucket's staging
 * prefix (where a Distributed Map's ItemReader reads them), and the context
 * every later step shares. What cannot be split exactly comes back as
 * `NotSplit`; an object gone throws SourceGoneError.
 */
export async function planFile(
  raw: RawObject,
  dataset: Dataset,
  { s3, cfg }: Pick<IngestDeps, 's3' | 'cfg'>,
  chunkBytes: number,
  now: () => Date,
): Promise<PlannedFile | NotSplit> {
  const dir = await invocationFolder(cfg.workDir, 'plan');
  try {
    const object = await openRanged(s3, raw, HEAD_BYTES);
    const plan = await withConnection(cfg, (connection) =>
      planChunks(object, { chunkBytes, connection, workDir: dir }),
    );
    if (plan.mode === 'single') return { notSplit: plan.reason };
    if (plan.format === 'json') {
      return {
        notSplit:
          'newline-delimited JSON is planned in chunks but read whole: its columns and types are inferred from every record',
      };
    }
    const source =
      plan.mode === 'row-groups'
        ? ({ format: 'parquet', size: plan.size, footer: plan.footer } as const)
        : await csvSource(object, plan.header, dir, cfg);
    if ('notSplit' in source) return source;
    const version = object.versionId ?? object.eTag;
    const context: ChunkContext = {
      raw,
      object: {
        bucket: object.bucket,
        key: object.key,
        eTag: object.eTag,
        ...(object.versionId ? { versionId: object.versionId } : {}),
        ...(object.lastModified ? { lastModified: object.lastModified.toISOString() } : {}),
      },
      version,
      dataset: dataset.name,
      format: plan.format,
      chunks: plan.chunks.length,
      source: serialiseSource(source),
      lineage: {
        sourceKey: raw.key,
        sourceEtag: object.eTag,
        ...(object.versionId ? { sourceVersionId: object.versionId } : {}),
        ingestedAt: now().toISOString(),
      },
    };
    const size = Buffer.byteLength(JSON.stringify(context));
    if (size > MAX_CONTEXT_BYTES) {
      return { notSplit: `its header makes the chunks' shared input ${size} bytes, over ${MAX_CONTEXT_BYTES}` };
    }
    const items: ChunkItem[] = plan.chunks;
    const planRef = { bucket: cfg.silverBucket, key: chunkPlanKey(raw.key, version) };
    await putJson(s3, planRef.bucket, planRef.key, items);
    return { context, items, plan: planRef };
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
 * The file's first bytes up to a record boundary, written to `path` piece by
 * piece: the rows DuckDB's sniffer samples (it skips blank lines, so they are
 * not counted), and at least the bytes the format and encoding checks read
 * (as many as the single-invocation path checks), or the whole file. False
 * when the rows are too long to sample within SAMPLE_MAX_BYTES.
 */
async function writeFirstRows(object: RangedObject, path: string): Promise<boolean> {
  const file = await open(path, 'w');
  try {
    let rows = 0;
    let lineStart = 0;
    let lastByte: number | undefined;
    for (let at = 0; at < object.size; at += SAMPLE_PIECE_BYTES) {
      if (at >= SAMPLE_MAX_BYTES) return false;
      const piece = await object.read(at, Math.min(object.size, at + SAMPLE_PIECE_BYTES));
      for (let i = piece.indexOf(LINE_FEED); i >= 0; i = piece.indexOf(LINE_FEED, i + 1)) {
        const length = at + i - lineStart;
        const blank = length === 0 || (length === 1 && (i > 0 ? piece[i - 1] : lastByte) === CARRIAGE_RETURN);
        lineStart = at + i + 1;
        if (!blank) rows++;
        if (rows > SNIFF_ROWS + 1 && at + i + 1 >= FORMAT_HEAD_BYTES) {
          await file.write(piece, 0, i + 1, at);
          return true;
        }
      }
      await file.write(piece, 0, piece.length, at);
      lastByte = piece[piece.length - 1];
    }
    return true;
  } finally {
    await file.close();
  }
}
