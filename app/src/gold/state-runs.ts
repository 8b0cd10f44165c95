import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../io/duckdb';

/**
 * Index runs, or ledger runs, as one relation with their `_uploaded_at`. A
 * run written before upload times were kept has none: it reads as null
 * (`union_by_name` adds the column only when some run has it).
 */
export async function runsWithUploadTimes(connection: DuckDBConnection, paths: readonly string[]): Promise<string> {
  const files = `read_parquet([${paths.map(sqlString).join(', ')}], union_by_name = true)`;
  const described = await connection.runAndReadAll(`describe select * from ${files}`);
  const columns = described.getRowObjectsJS().map((row) => String(row.column_name));
  return columns.includes('_uploaded_at') ? files : `(select *, null::bigint as _uploaded_at from ${files})`;
}
