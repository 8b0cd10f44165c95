import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../src/config';
import { sqlIdentifier } from '../../src/io/duckdb';
import { type LakehouseTable, listLakehouseTables, tablesNamedIn, withLakehouseTables } from '../lakehouse-tables';
import { type QueryResult, runQuery } from '../query-results';

/** Rows a query answers the page with at most; `rows` says how many there were. */
export const MAX_RESULT_ROWS = 1000;
const FIRST_ROWS = 5;

/** A table of `pnpm query`, as the console lists it. */
export interface TableSummary {
  name: string;
  kind: LakehouseTable['kind'];
  objects: number;
  rows: number;
  columns: Array<{ name: string; type: string }>;
  firstRows: QueryResult;
}

export interface ConsoleQueryResult extends QueryResult {
  /** Rows of the whole result; `rows` holds the first MAX_RESULT_ROWS. */
  rowCount: number;
}

type DuckCfg = Pick<Config, 'workDir' | 'duckdb'>;

/** The lakehouse's tables under their catalog names, with schema, row count and first rows. */
export async function summarizeTables(client: S3Client, cfg: DuckCfg): Promise<TableSummary[]> {
  const tables = await listLakehouseTables(client);
  return withLakehouseTables(client, cfg, tables, async (connection) => {
    const summaries: TableSummary[] = [];
    for (const table of tables) {
      const name = sqlIdentifier(table.name);
      const described = await connection.runAndReadAll(`describe ${name}`);
      const counted = await connection.runAndReadAll(`select count(*)::bigint as n from ${name}`);
      summaries.push({
        name: table.name,
        kind: table.kind,
        objects: table.keys.length,
        rows: Number(counted.getRowObjectsJS()[0]?.n ?? 0),
        columns: described
          .getRowObjectsJS()
          .map((column) => ({ name: String(column.column_name), type: String(column.column_type) })),
        firstRows: await runQuery(connection, `select * from ${name} limit ${FIRST_ROWS}`),
      });
    }
    return summaries;
  });
}

/** SQL over the lakehouse's tables, run as `pnpm query` runs it (the tables it names, downloaded, as views). */
export async function queryTables(client: S3Client, cfg: DuckCfg, sql: string): Promise<ConsoleQueryResult> {
  const tables = tablesNamedIn(sql, await listLakehouseTables(client));
  const result = await withLakehouseTables(client, cfg, tables, (connection) => runQuery(connection, sql));
  return { ...result, rows: result.rows.slice(0, MAX_RESULT_ROWS), rowCount: result.rows.length };
}
