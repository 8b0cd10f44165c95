import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../io/duckdb';

/** The smallest and largest key of an index run; empty strings for a run with no rows. */
export interface KeyRange {
  lo: string;
  hi: string;
}

/**
 * An index run's key range, from its footer: the row groups' statistics,
 * when each is exact (DuckDB truncates long strings' statistics, and says
 * so). Otherwise the keys are read, as they were always: a scan of every key
 * costs about 90 ms a 5M-row run, the footer about 2.
 */
export async function keyRange(connection: DuckDBConnection, path: string): Promise<KeyRange> {
  const [stats] = (
    await connection.runAndReadAll(
      `select min(stats_min_value) as lo, max(stats_max_value) as hi,
              bool_and(coalesce(min_is_exact and max_is_exact, false)) as exact
       from parquet_metadata(${sqlString(path)}) where path_in_schema = 'key'`,
    )
  ).getRowObjectsJS();
  if (stats?.exact === true && stats.lo !== null && stats.hi !== null) {
    return { lo: String(stats.lo), hi: String(stats.hi) };
  }
  const [range] = (
    await connection.runAndReadAll(`select min(key) as lo, max(key) as hi from read_parquet(${sqlString(path)})`)
  ).getRowObjectsJS();
  return { lo: String(range?.lo ?? ''), hi: String(range?.hi ?? '') };
}
