import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { PoisonFileError } from '../errors';
import { ROW_COLUMN } from '../ingest/read-raw';
import { PARQUET } from '../ingest/transform';
import { copyRows, sqlString } from '../io/duckdb';
import type { ChunkPart } from './process-chunk';

/** Where each part's rows and lines start in the whole file. */
interface Numbered {
  part: ChunkPart;
  silverPath: string;
  rejectsPath?: string;
  rowsBefore: number;
  /** Added to a rejected line's number in its chunk file to give its line in the whole file. */
  lineOffset: number;
}

export interface AssembledFile {
  silverRows: number;
  rejectedRows: number;
}

/**
 * The commit's assembly: the parts (downloaded to `dir`, in chunk order)
 * become the file's one silver object and one rejects object, exactly as the
 * single-invocation path writes them: `_source_row` is the row's number in
 * the whole file (the rows read by earlier chunks come first), `_source_line`
 * the rejected line's. A file with no row read is poison as it is there.
 */
export async function assembleParts(
  connection: DuckDBConnection,
  parts: readonly ChunkPart[],
  dir: string,
  paths: { silver: string; rejects: string },
  format: 'csv' | 'parquet',
): Promise<AssembledFile> {
  const numbered: Numbered[] = [];
  let rowsBefore = 0;
  let lineFeedsBefore = 0;
  for (const part of parts) {
    numbered.push({
      part,
      silverPath: join(dir, `silver-${part.index}.parquet`),
      ...(part.rejectsKey ? { rejectsPath: join(dir, `rejects-${part.index}.parquet`) } : {}),
      rowsBefore,
      lineOffset: lineFeedsBefore - part.prefixLines,
    });
    rowsBefore += part.stagedRows;
    lineFeedsBefore += part.lineFeeds;
  }
  const stagedRows = rowsBefore;
  const rejectedLines = parts.reduce((sum, part) => sum + part.rejectedLines, 0);
  const silverRows = await copyRows(
    connection,
    numbered
      .map(
        ({ silverPath, rowsBefore }) =>
          `select * replace (${ROW_COLUMN} + ${rowsBefore} as ${ROW_COLUMN}) from read_parquet(${sqlString(silverPath)})`,
      )
      .join(' union all ')
      .concat(` order by ${ROW_COLUMN}`),
    paths.silver,
    PARQUET,
  );
  const withRejects = numbered.filter((entry) => entry.rejectsPath);
  const rejectedRows =
    withRejects.length === 0
      ? 0
      : await copyRows(
          connection,
          withRejects
            .map(
              ({ rejectsPath, rowsBefore, lineOffset }) =>
                `(select * replace (${ROW_COLUMN} + ${rowsBefore} as ${ROW_COLUMN}, _source_line + ${lineOffset} as _source_line)
                  from read_parquet(${sqlString(rejectsPath as string)}))`,
            )
            .join(' union all by name ')
            .concat(` order by ${ROW_COLUMN} nulls last, _source_line`),
          paths.rejects,
          PARQUET,
        );
  if (stagedRows === 0 && rejectedLines > 0) {
    throw new PoisonFileError(
      'unreadable',
      `no line of the csv file could be read as its header says: ${await firstRejectedLines(connection, paths.rejects)}`,
    );
  }
  if (stagedRows === 0) throw new PoisonFileError('empty', `the ${format} file has no rows`);
  return { silverRows, rejectedRows };
}

/** As the single-invocation path quotes them: `line 3: Expected Number of Columns: 2 Found: 4`. */
async function firstRejectedLines(connection: DuckDBConnection, rejectsPath: string, count = 3): Promise<string> {
  const reader = await connection.runAndReadAll(
    `select _source_line, _error from read_parquet(${sqlString(rejectsPath)})
     where _source_line is not null order by _source_line limit ${count}`,
  );
  return reader
    .getRowObjectsJS()
    .map((row) => `line ${row._source_line}: ${row._error}`)
    .join('; ');
}
