import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Config } from '../config';

let instance: Promise<DuckDBInstance> | undefined;

/**
 * DuckDB settings for Lambda: it has no HOME and only /tmp is writable, and
 * extensions must never be downloaded at cold start (parquet and json are built in).
 */
export function duckdbOptions(cfg: Pick<Config, 'workDir' | 'duckdb'>): Record<string, string> {
  const home = join(cfg.workDir, 'duckdb');
  for (const dir of ['home', 'spill', 'extensions']) mkdirSync(join(home, dir), { recursive: true });
  return {
    home_directory: join(home, 'home'),
    temp_directory: join(home, 'spill'),
    extension_directory: join(home, 'extensions'),
    memory_limit: `${cfg.duckdb.memoryLimitMb}MB`,
    threads: String(cfg.duckdb.threads),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
    // Row numbers are staged-file positions: COPY must write rows in the order it reads them.
    preserve_insertion_order: 'true',
  };
}

/** One in-memory instance per container, created on first use and reused while warm. */
export function duckdb(cfg: Pick<Config, 'workDir' | 'duckdb'>): Promise<DuckDBInstance> {
  instance ??= DuckDBInstance.create(':memory:', duckdbOptions(cfg)).catch((error) => {
    instance = undefined;
    throw error;
  });
  return instance;
}

/** Runs `fn` on a fresh connection, closed afterwards whatever happens. */
export async function withConnection<T>(
  cfg: Pick<Config, 'workDir' | 'duckdb'>,
  fn: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const connection = await (await duckdb(cfg)).connect();
  try {
    return await fn(connection);
  } finally {
    connection.closeSync();
  }
}

/** Writes the rows of `select` to a file with COPY `options`; DuckDB answers how many rows it wrote. */
export async function copyRows(
  connection: DuckDBConnection,
  select: string,
  path: string,
  options = '(format parquet, compression zstd)',
): Promise<number> {
  const reader = await connection.runAndReadAll(`copy (${select}) to ${sqlString(path)} ${options}`);
  return Number(reader.getRowObjectsJS()[0]?.Count ?? 0);
}

/** A SQL string literal (for file paths, which table functions take as constants). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier. */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
