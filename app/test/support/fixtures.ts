import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
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
  options: 'format parquet' | 'format parquet, compression uncompressed' | 'format csv, compression zstd',
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

/** zstd-compressed bytes, compressed by DuckDB (Node 20 has no zstd compressor): the text as one CSV value. */
export async function zstdWithDuckDB(cfg: Config, text: string): Promise<Buffer> {
  const plain = join(cfg.workDir, `fixture-${Math.random().toString(36).slice(2)}.txt`);
  const compressed = `${plain}.zst`;
  await writeFile(plain, text);
  try {
    await withConnection(cfg, (connection) =>
      connection.run(
        `copy (select content from read_text('${plain}')) to '${compressed}' (format csv, header false, quote '', escape '', delim e'\\x1f', compression zstd)`,
      ),
    );
    return await readFile(compressed);
  } finally {
    await rm(plain, { force: true });
    await rm(compressed, { force: true });
  }
}

/** A real Parquet file with an encrypted footer (PARE magic), as DuckDB writes one with a key. */
export async function encryptedParquet(cfg: Config): Promise<Buffer> {
  const path = join(cfg.workDir, `fixture-${Math.random().toString(36).slice(2)}.parquet`);
  // An instance of its own: DuckDB writes encrypted Parquet without httpfs's crypto only when told it may.
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run("set force_mbedtls_unsafe = 'true'");
    await connection.run("pragma add_parquet_key('fixture', '0123456789112345')");
    await connection.run(
      `copy (select 1 as a) to '${path}' (format parquet, encryption_config {footer_key: 'fixture'})`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  try {
    return await readFile(path);
  } finally {
    await rm(path, { force: true });
  }
}
