/**
 * Child: DuckDB alone, sized as the Lambda function would size it. CSV to
 * zstd Parquet, then the gold aggregate from that Parquet to a small Parquet.
 *
 *   engine.ts <csv> <work dir> <memory limit MB> <threads>
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '@lakehouse/app/src/io/duckdb';
import { peakRssMb, replyToParent } from '../child-process';

export interface EngineFigures {
  ms: number;
  csvToParquetMs: number;
  aggregateMs: number;
  rows: number;
  goldRows: number;
  peakRssMb: number;
}

/** try_cast: with bad values in the sample, the sniffer types those columns as VARCHAR. */
const goldAggregate = (parquet: string) => `
  select
    cast(try_cast(pickup_at as timestamp) as date) as pickup_date,
    pickup_zone,
    count(*)::bigint as trips,
    sum(try_cast(passengers as double))::bigint as passengers,
    sum(try_cast(fare as decimal(12,2)))::decimal(18,2) as fare_total,
    sum(try_cast(distance_km as double)) as distance_km_total,
  from read_parquet(${sqlString(parquet)})
  group by all`;

async function measure(): Promise<EngineFigures> {
  const [csv, workDir, memoryLimitMb, threads] = process.argv.slice(2) as [string, string, string, string];
  const parquet = join(workDir, 'trips.parquet');
  const gold = join(workDir, 'daily_zone_revenue.parquet');

  const started = performance.now();
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: `${memoryLimitMb}MB`,
    threads,
    temp_directory: join(workDir, 'spill'),
  });
  const connection = await instance.connect();
  const copied = await connection.runAndReadAll(
    `copy (select * from read_csv(${sqlString(csv)})) to ${sqlString(parquet)} (format parquet, compression zstd)`,
  );
  const parquetWritten = performance.now();
  const aggregated = await connection.runAndReadAll(
    `copy (${goldAggregate(parquet)}) to ${sqlString(gold)} (format parquet, compression zstd)`,
  );
  const finished = performance.now();
  connection.closeSync();
  instance.closeSync();

  return {
    ms: Math.round(finished - started),
    csvToParquetMs: Math.round(parquetWritten - started),
    aggregateMs: Math.round(finished - parquetWritten),
    rows: Number(copied.getRowObjectsJS()[0]?.Count ?? 0),
    goldRows: Number(aggregated.getRowObjectsJS()[0]?.Count ?? 0),
    peakRssMb: peakRssMb(),
  };
}

replyToParent(measure);
