import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Rule } from '../datasets';
import { checkRowsRead } from '../ingest/read-raw';
import { type Lineage, publishStaged, type StagedPart, type TransformResult } from '../ingest/transform';
import { sqlString } from '../io/duckdb';
import { downloadToFile, inParallel } from '../io/s3-io';
import type { ChunkPart } from './process-chunk';

/** Where the commit keeps one chunk's parts (downloadParts writes them, assembleParts reads them). */
function partPaths(part: ChunkPart, dir: string) {
  const stem = String(part.index).padStart(5, '0');
  return { staged: join(dir, `staged-${stem}.parquet`), lines: join(dir, `lines-${stem}.parquet`) };
}

/** The parts of a file's chunks from the silver bucket's staging prefix into `dir`, where assembleParts reads them. */
export async function downloadParts(
  s3: S3Client,
  bucket: string,
  parts: readonly ChunkPart[],
  dir: string,
): Promise<void> {
  const downloads = parts.flatMap((part) => {
    const paths = partPaths(part, dir);
    return [
      { key: part.stagedKey, path: paths.staged },
      ...(part.linesKey ? [{ key: part.linesKey, path: paths.lines }] : []),
    ];
  });
  await inParallel(downloads, PARTS_AT_ONCE, ({ key, path }) =>
    downloadToFile(s3, { bucket, key }, path).then(() => {}),
  );
}

/** Parts are small (a chunk's staged rows): several come down at once. */
const PARTS_AT_ONCE = 4;

/**
 * The commit's assembly: the staged parts (downloaded to `dir`, in chunk
 * order) published at once into the file's one silver object and one
 * rejects object, with the single-invocation path's own publish, so every
 * row is encoded to silver once, streamed, never sorted: `_source_row` is the
 * row's number in the whole file (the rows read by earlier chunks come
 * first), `_source_line` the rejected line's. A file with no row read is
 * poison as it is there.
 */
export async function assembleParts(
  connection: DuckDBConnection,
  parts: readonly ChunkPart[],
  dir: string,
  paths: { silver: string; rejects: string },
  { format, lineage, rules }: { format: 'csv' | 'parquet'; lineage: Lineage; rules: readonly Rule[] },
): Promise<TransformResult> {
  const staged: StagedPart[] = [];
  const lines: Array<{ path: string; lineOffset: number }> = [];
  let rowsBefore = 0;
  let lineFeedsBefore = 0;
  for (const part of parts) {
    const { staged: stagedPath, lines: linesPath } = partPaths(part, dir);
    staged.push({ path: stagedPath, rowsBefore });
    // A rejected line's number in its chunk file counts the header put in front of it.
    if (part.linesKey) lines.push({ path: linesPath, lineOffset: lineFeedsBefore - part.prefixLines });
    rowsBefore += part.stagedRows;
    lineFeedsBefore += part.lineFeeds;
  }
  const stagedRows = rowsBefore;
  const rejectedLines = parts.reduce((sum, part) => sum + part.rejectedLines, 0);
  const rejectedLinesFrom = linesInFile(lines);
  await checkRowsRead(connection, { stagedRows, rejectedLines, format }, rejectedLinesFrom);
  return publishStaged(
    connection,
    stagedRows,
    lineage,
    { staged, ...paths },
    { rules, rejectedLines, ...(rejectedLinesFrom ? { rejectedLinesFrom } : {}) },
  );
}

/** The chunks' rejected lines, numbered in the whole file; undefined when there are none. */
function linesInFile(lines: ReadonlyArray<{ path: string; lineOffset: number }>): string | undefined {
  if (lines.length === 0) return undefined;
  const files = lines.map((entry) => sqlString(entry.path)).join(', ');
  const offsets = lines.map((entry) => entry.lineOffset).join(', ');
  return `select * replace (_source_line + [${offsets}][file_index::bigint + 1] as _source_line)
          from read_parquet([${files}])`;
}
