import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAGIC, startsWith } from '../ingest/formats';
import { sqlString } from '../io/duckdb';
import type { RangedObject } from '../io/s3-io';

/** One row group of a Parquet file: its rows and the bytes of its column chunks. */
export interface RowGroup {
  index: number;
  rows: number;
  /** Byte range [start, end) of its column chunks in the file. */
  start: number;
  end: number;
}

/** A Parquet file ends with its footer, the footer's length (4 bytes, little-endian) and `PAR1`. */
const TAIL_BYTES = 8;

/**
 * The row groups of a Parquet object, from its footer alone: two ranged GETs
 * (the tail, then the footer) written at their offsets into a sparse local
 * file of the object's size, which DuckDB's `parquet_metadata` reads without
 * touching the holes. Undefined when the tail is not a Parquet footer (the
 * single-invocation path then says what the file is).
 */
export async function parquetRowGroups(
  object: RangedObject,
  connection: DuckDBConnection,
  workDir: string,
): Promise<{ rowGroups: RowGroup[]; footer: { start: number; end: number } } | undefined> {
  if (object.size < TAIL_BYTES + 4) return undefined;
  const tail = await object.read(object.size - TAIL_BYTES, object.size);
  if (!startsWith(tail.subarray(4), MAGIC.parquet)) return undefined;
  const footerBytes = tail.readUInt32LE(0);
  const footerStart = object.size - TAIL_BYTES - footerBytes;
  if (footerStart < 4) return undefined;
  const footer = await object.read(footerStart, object.size);
  const path = join(workDir, `footer-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.parquet`);
  const file = await open(path, 'w');
  try {
    await file.truncate(object.size);
    await file.write(footer, 0, footer.length, footerStart);
    await file.close();
    const reader = await connection.runAndReadAll(
      `select row_group_id as index,
              any_value(row_group_num_rows) as rows,
              min(coalesce(dictionary_page_offset, data_page_offset)) as start,
              max(coalesce(dictionary_page_offset, data_page_offset) + total_compressed_size) as "end"
       from parquet_metadata(${sqlString(path)})
       group by row_group_id
       order by row_group_id`,
    );
    const rowGroups = reader.getRowObjectsJS().map((row) => ({
      index: Number(row.index),
      rows: Number(row.rows),
      start: Number(row.start),
      end: Number(row.end),
    }));
    return { rowGroups, footer: { start: footerStart, end: object.size } };
  } catch {
    return undefined;
  } finally {
    await file.close().catch(() => {});
    await rm(path, { force: true });
  }
}
