import type { DuckDBConnection } from '@duckdb/node-api';
import { binaryKind, encodingProblem } from '../ingest/file-kind';
import { MAGIC, startsWith, textFormat } from '../ingest/formats';
import type { RangedObject } from '../io/s3-io';
import { parquetRowGroups } from './parquet-row-groups';
import { completeLines, isJsonRecord, nextRecordStart, quotedLineBreak } from './record-boundaries';

/** Bytes [start, end) of the raw object. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface TextChunk extends ByteRange {
  index: number;
}

export interface RowGroupChunk extends ByteRange {
  index: number;
  /** Row groups [first, first + count) of the file. */
  firstRowGroup: number;
  rowGroups: number;
  /** Rows of the file before this chunk: its first row is row `rowsBefore + 1` of the file. */
  rowsBefore: number;
  rows: number;
}

/** The object as read when the plan was made: every chunk must read this version. */
interface PlannedObject {
  bucket: string;
  key: string;
  size: number;
  eTag: string;
  versionId?: string;
}

/**
 * How one raw object is processed: whole, by one invocation (with the reason
 * when it is large), or as chunks. A plan is plain JSON, so that it can be
 * stored and handed to whatever runs the chunks.
 */
export type ChunkPlan =
  | (PlannedObject & { mode: 'single'; reason: string })
  | (PlannedObject & {
      mode: 'byte-ranges';
      format: 'csv' | 'json';
      /** A CSV's first line with its line break: the header, in the first chunk only. */
      header?: ByteRange;
      chunks: TextChunk[];
    })
  | (PlannedObject & {
      mode: 'row-groups';
      format: 'parquet';
      rows: number;
      /** The footer with its length and magic: every chunk reads its row groups through it. */
      footer: ByteRange;
      chunks: RowGroupChunk[];
    });

export interface PlanOptions {
  /** Target bytes per chunk; an object of at most this size is processed whole. */
  chunkBytes: number;
  /** For a Parquet footer (DuckDB reads it). */
  connection: DuckDBConnection;
  workDir: string;
}

/** Bytes read at the start of the object (format, header, quoted line breaks) and around each split point. */
export const HEAD_BYTES = 256 * 1024;
export const WINDOW_BYTES = 64 * 1024;

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

/**
 * The plan for a raw object opened with `openRanged(s3, ref, HEAD_BYTES)`:
 * uncompressed CSV, TSV and newline-delimited JSON above `chunkBytes` split
 * at record boundaries, Parquet by row groups; everything else, and anything
 * that cannot be split exactly, whole, with the reason.
 */
export async function planChunks(object: RangedObject, options: PlanOptions): Promise<ChunkPlan> {
  const planned: PlannedObject = {
    bucket: object.bucket,
    key: object.key,
    size: object.size,
    eTag: object.eTag,
    ...(object.versionId ? { versionId: object.versionId } : {}),
  };
  const single = (reason: string): ChunkPlan => ({ ...planned, mode: 'single', reason });
  if (object.size <= options.chunkBytes) return single(`fits in one chunk of ${options.chunkBytes} bytes`);
  const { head } = object;
  if (startsWith(head, MAGIC.parquet)) return planRowGroups(object, planned, options, single);
  for (const compression of ['gzip', 'zstd'] as const) {
    if (startsWith(head, MAGIC[compression])) {
      return single(
        `${compression}-compressed: a compressed stream cannot be split at byte offsets, one invocation streams it`,
      );
    }
  }
  if (binaryKind(head) || encodingProblem(head, head.length === object.size)) {
    return single('not UTF-8 text: the single-invocation path reads it (and says what it is)');
  }
  return textFormat(head.toString('utf8')) === 'json'
    ? planNdjson(object, planned, options, single)
    : planCsv(object, planned, options, single);
}

type Single = (reason: string) => ChunkPlan;

/** Offsets where chunks would start if records allowed: every `chunkBytes`. */
function splitTargets(size: number, chunkBytes: number): number[] {
  const targets: number[] = [];
  for (let at = chunkBytes; at < size; at += chunkBytes) targets.push(at);
  return targets;
}

/** The window of bytes read around a split target, and where the target is in it. */
async function windowAround(object: RangedObject, target: number) {
  const start = Math.max(0, target - WINDOW_BYTES);
  const bytes = await object.read(start, Math.min(object.size, target + WINDOW_BYTES));
  return { start, bytes, targetAt: target - start };
}

/**
 * Record starts near each target; a window that shows a reason not to split
 * (`problem`) makes the whole file single. Starts that coincide (a record
 * longer than a chunk) or fall at the end are merged away.
 */
async function recordStarts(
  object: RangedObject,
  chunkBytes: number,
  problem: (window: Buffer, start: number) => string | undefined,
): Promise<number[] | string> {
  const starts: number[] = [];
  for (const target of splitTargets(object.size, chunkBytes)) {
    if (target < (starts.at(-1) ?? 0)) continue;
    const window = await windowAround(object, target);
    const found = problem(window.bytes, window.start);
    if (found) return found;
    const at = nextRecordStart(window.bytes, window.targetAt);
    if (at === undefined) {
      if (window.start + window.bytes.length === object.size) break;
      return `no line break within ${kib(WINDOW_BYTES)} after byte ${target}: records too long to split near it`;
    }
    const start = window.start + at;
    if (start < object.size && start > (starts.at(-1) ?? 0)) starts.push(start);
  }
  return starts;
}

function chunksFrom(starts: number[], size: number): TextChunk[] {
  const bounds = [0, ...starts, size];
  return starts.concat(size).map((end, index) => ({ index, start: bounds[index] as number, end }));
}

async function planCsv(object: RangedObject, planned: PlannedObject, options: PlanOptions, single: Single) {
  const headerEnd = nextRecordStart(object.head, 0);
  if (headerEnd === undefined) return single(`no line break in the first ${kib(object.head.length)}`);
  const quotedBreak = (bytes: Buffer, start: number) => {
    // The head is read from the file's start, where quotes are known to be closed.
    const at = start === 0 ? quotedLineBreak(bytes) : quotedLineBreak(bytes.subarray(nextRecordStart(bytes, 0) ?? 0));
    return at === undefined
      ? undefined
      : 'CSV with a quoted field holding a line break: split points cannot be found from bytes near them, one invocation reads it';
  };
  const inHead = quotedBreak(object.head, 0);
  if (inHead) return single(inHead);
  const starts = await recordStarts(object, options.chunkBytes, quotedBreak);
  if (typeof starts === 'string') return single(starts);
  const chunks = chunksFrom(
    starts.filter((start) => start > headerEnd),
    object.size,
  );
  if (chunks.length < 2) return single('one record boundary or none past the header: nothing to split');
  return {
    ...planned,
    mode: 'byte-ranges' as const,
    format: 'csv' as const,
    header: { start: 0, end: headerEnd },
    chunks,
  };
}

async function planNdjson(object: RangedObject, planned: PlannedObject, options: PlanOptions, single: Single) {
  const notOneRecordALine = (bytes: Buffer, start: number) =>
    completeLines(bytes, start === 0).every(isJsonRecord)
      ? undefined
      : 'JSON that is not one record a line (an array, or pretty-printed): it cannot be split at line breaks';
  const text = object.head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (text.startsWith('[')) return single('a JSON array is one value: it cannot be split at line breaks');
  const inHead = notOneRecordALine(object.head, 0);
  if (inHead) return single(inHead);
  const starts = await recordStarts(object, options.chunkBytes, notOneRecordALine);
  if (typeof starts === 'string') return single(starts);
  const chunks = chunksFrom(starts, object.size);
  if (chunks.length < 2) return single('one record boundary or none: nothing to split');
  return { ...planned, mode: 'byte-ranges' as const, format: 'json' as const, chunks };
}

/** Consecutive row groups, about `chunkBytes` of them a chunk (at least one each). */
async function planRowGroups(object: RangedObject, planned: PlannedObject, options: PlanOptions, single: Single) {
  const read = await parquetRowGroups(object, options.connection, options.workDir);
  if (!read) return single('the Parquet footer cannot be read: the single-invocation path says why');
  const groups = read.rowGroups;
  if (groups.length < 2) return single(`one row group (${groups.length}): a Parquet file splits by row groups only`);
  const chunks: RowGroupChunk[] = [];
  let rowsBefore = 0;
  for (const group of groups) {
    const current = chunks.at(-1);
    if (current && group.end - current.start <= options.chunkBytes) {
      current.rowGroups++;
      current.rows += group.rows;
      current.end = group.end;
    } else {
      chunks.push({
        index: chunks.length,
        start: group.start,
        end: group.end,
        firstRowGroup: group.index,
        rowGroups: 1,
        rowsBefore,
        rows: group.rows,
      });
    }
    rowsBefore += group.rows;
  }
  if (chunks.length < 2) return single('its row groups fit in one chunk');
  return {
    ...planned,
    mode: 'row-groups' as const,
    format: 'parquet' as const,
    rows: rowsBefore,
    footer: read.footer,
    chunks,
  };
}
