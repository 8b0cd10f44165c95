/**
 * SQL over the local lakehouse's tables, under the names they have in the
 * Glue Data Catalog on AWS: `pnpm query "select * from gold_trips_daily_zone_revenue"`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_GLUE_DATABASE } from '@lakehouse/contract';
import { localClientConfig } from '@lakehouse/local-s3';
import { exitWithUsageError, parseCommandLineWithArguments, UsageError } from '../local/command-line';
import {
  type LakehouseTable,
  listLakehouseTables,
  tablesNamedIn,
  withLakehouseTables,
} from '../local/lakehouse-tables';
import { DEFAULT_PORT, quietLocalLogs } from '../local/local-lakehouse';
import { formatResult, type QueryResult, RESULT_FORMATS, type ResultFormat, runQuery } from '../local/query-results';
import { sqlIdentifier, sqlString } from '../src/io/duckdb';

const DEFAULT_ENDPOINT = `http://127.0.0.1:${process.env.LAKEHOUSE_PORT ?? DEFAULT_PORT}`;

const USAGE = `pnpm query "<SQL>"
pnpm query --tables

Runs SQL in DuckDB over the local lakehouse's tables, named as in the Glue
Data Catalog on AWS, so a query runs unchanged in Athena:

  silver_<dataset>          clean rows, under the dataset's current schema
  rejects_<dataset>         rows that broke a rule, as written
  gold_<dataset>_<table>    gold tables
  quarantine                one row per quarantined file

Each is also ${DEFAULT_GLUE_DATABASE}.<table>. The objects are read over the S3 API.

  pnpm query "select * from gold_trips_daily_zone_revenue order by fare_total desc limit 5"

  --tables            list the tables with their row counts
  --endpoint URL      the lakehouse's S3 endpoint (default ${DEFAULT_ENDPOINT}, pnpm dev's;
                      LAKEHOUSE_PORT changes the port)
  --format FORMAT     table (default), csv, or json (one array of row objects)
  -h, --help          this help`;

async function main(): Promise<void> {
  const { values, positionals } = parseCommandLineWithArguments(USAGE, {
    tables: { type: 'boolean', default: false },
    endpoint: { type: 'string', default: DEFAULT_ENDPOINT },
    format: { type: 'string', default: 'table' },
  });
  const format = values.format as ResultFormat;
  if (!RESULT_FORMATS.includes(format)) {
    throw new UsageError(`--format takes ${RESULT_FORMATS.join(', ')}, got "${values.format}"`);
  }
  const sql = positionals.join(' ').trim();
  if (!values.tables && !sql) throw new UsageError('give the query as one argument, in quotes (or --tables)');
  if (values.tables && sql) throw new UsageError('--tables takes no query');

  quietLocalLogs();
  const client = new S3Client(localClientConfig(values.endpoint));
  const workDir = await mkdtemp(join(tmpdir(), 'lakehouse-query-'));
  const cfg = { workDir, duckdb: { memoryLimitMb: 2048, threads: availableParallelism() } };
  try {
    const all = await listLakehouseTables(client).catch((error: Error) => {
      throw new Error(
        `no lakehouse answers at ${values.endpoint} (${error.message}): start one with pnpm dev, or pass --endpoint`,
      );
    });
    const result = values.tables
      ? await withLakehouseTables(client, cfg, all, (connection) => tableCounts(connection, all))
      : await withLakehouseTables(client, cfg, tablesNamedIn(sql, all), (connection) =>
          runQuery(connection, sql).catch((error: Error) => {
            if (!/^Catalog Error/.test(error.message)) throw error;
            throw new Error(`${error.message}\n(pnpm query --tables lists the lakehouse's tables)`);
          }),
        );
    console.log(formatResult(result, format));
  } finally {
    client.destroy();
    await rm(workDir, { recursive: true, force: true });
  }
}

async function tableCounts(connection: DuckDBConnection, tables: readonly LakehouseTable[]): Promise<QueryResult> {
  if (tables.length === 0) return { columns: ['table', 'rows'], rows: [] };
  const counts = tables.map(
    (table) => `select ${sqlString(table.name)} as "table", count(*) as "rows" from ${sqlIdentifier(table.name)}`,
  );
  return runQuery(connection, `${counts.join(' union all ')} order by 1`);
}

main().catch((error: Error) => {
  if (error instanceof UsageError) exitWithUsageError(error);
  console.error(error.message);
  process.exit(1);
});
