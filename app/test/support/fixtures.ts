import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Config } from '../../src/config';
import { withConnection } from '../../src/io/duckdb';

export const PEOPLE_CSV = 'Name,Age,Joined At\nAda,36,2026-01-02\nLinus,29,2026-02-03\nGrace,45,2026-03-04\n';
export const PEOPLE_TSV = PEOPLE_CSV.replace(/,/g, '\t');
export const PEOPLE_NDJSON = [
  { Name: 'Ada', Age: 36, 'Joined At': '2026-01-02' },
  { Name: 'Linus', Age: 29, 'Joined At': '2026-02-03' },
  { Name: 'Grace', Age: 45, 'Joined At': '2026-03-04' },
]
  .map((row) => JSON.stringify(row))
  .join('\n');
export const PEOPLE_JSON_ARRAY = `[${PEOPLE_NDJSON.split('\n').join(',\n')}]`;

export const gzip = (text: string): Buffer => gzipSync(Buffer.from(text));

/** Bytes DuckDB writes for `select` in a format (parquet, or zstd-compressed CSV). */
export async function writeWithDuckDB(
  cfg: Config,
  select: string,
  options: 'format parquet' | 'format csv, compression zstd',
): Promise<Buffer> {
  const path = join(cfg.workDir, `fixture-${Math.random().toString(36).slice(2)}`);
  await withConnection(cfg, (connection) => connection.run(`copy (${select}) to '${path}' (${options})`));
  try {
    return await readFile(path);
  } finally {
    await rm(path, { force: true });
  }
}

export const PEOPLE_SELECT =
  "select * from (values ('Ada', 36, date '2026-01-02'), ('Linus', 29, date '2026-02-03'), ('Grace', 45, date '2026-03-04')) as t(\"Name\", \"Age\", \"Joined At\")";
