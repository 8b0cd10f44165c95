/**
 * Child: what a Node user might pick instead of DuckDB, nodejs-polars. The
 * same CSV to zstd Parquet, then the same gold aggregate from that Parquet.
 *
 *   peer.ts <csv> <work dir>
 *
 * Answers `unavailable` (with the reason) when the native package does not load.
 */
import { join } from 'node:path';
import { peakRssMb, replyToParent } from '../child-process';
import type { EngineFigures } from './engine';

/** The same figures as DuckDB alone's, when polars loads. */
export type PeerFigures = ({ available: true; version: string } & EngineFigures) | { available: false; reason: string };

type Polars = typeof import('nodejs-polars');

function loadPolars(): Polars | string {
  try {
    return require('nodejs-polars') as Polars;
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    // Its native packages declare node >= 22, and pnpm skips an optional dependency whose engines do not match.
    const skipped =
      /Cannot find module 'nodejs-polars-/.test(reason) && Number(process.versions.node.split('.')[0]) < 22;
    return skipped
      ? `${reason} (pnpm skips its native package on Node ${process.versions.node}; it wants >= 22)`
      : reason;
  }
}

async function measure(): Promise<PeerFigures> {
  const [csv, workDir] = process.argv.slice(2) as [string, string];
  const parquet = join(workDir, 'trips.parquet');
  const gold = join(workDir, 'daily_zone_revenue.parquet');
  const pl = loadPolars();
  if (typeof pl === 'string') return { available: false, reason: `nodejs-polars did not load: ${pl}` };

  const started = performance.now();
  // Read as text, then cast leniently (null when a value does not parse, as try_cast):
  // inferring types from the first rows fails on a bad value further down.
  const trips = pl
    .readCSV(csv, { inferSchemaLength: 0 })
    .withColumns(
      pl.col('distance_km').cast(pl.Float64, false),
      pl.col('fare').cast(pl.Float64, false),
      pl.col('passengers').cast(pl.Float64, false),
    );
  trips.writeParquet(parquet, { compression: 'zstd' });
  const parquetWritten = performance.now();
  const daily = pl
    .scanParquet(parquet)
    .groupBy([
      pl.col('pickup_at').str.strptime(pl.Date, '%Y-%m-%d %H:%M:%S').alias('pickup_date'),
      pl.col('pickup_zone'),
    ])
    .agg(
      pl.len().cast(pl.Int64).alias('trips'),
      pl.col('passengers').sum().cast(pl.Int64, false).alias('passengers'),
      pl.col('fare').sum().round(2).alias('fare_total'),
      pl.col('distance_km').sum().alias('distance_km_total'),
    )
    .collectSync();
  daily.writeParquet(gold, { compression: 'zstd' });
  const finished = performance.now();

  return {
    available: true,
    version: (require('nodejs-polars/package.json') as { version: string }).version,
    ms: Math.round(finished - started),
    csvToParquetMs: Math.round(parquetWritten - started),
    aggregateMs: Math.round(finished - parquetWritten),
    rows: trips.height,
    goldRows: daily.height,
    peakRssMb: peakRssMb(),
  };
}

replyToParent(measure);
