import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  DEFAULT_GLUE_DATABASE,
  folderOf,
  GOLD_STATE_PREFIX,
  goldTable,
  QUARANTINE_COLUMNS,
  QUARANTINE_PREFIX,
  QUARANTINE_TABLE,
  REJECTS_PREFIX,
  rejectsTable,
  SCHEMA_PREFIX,
  schemaKey,
  silverTable,
} from '@lakehouse/contract';
import type { Config } from '../src/config';
import { duckdbOptions, sqlIdentifier, sqlString } from '../src/io/duckdb';
import { DOWNLOAD, downloadToFile, inParallel, listKeys } from '../src/io/s3-io';
import type { DatasetSchema } from '../src/schema/dataset-schema';
import { readSchema } from '../src/schema/schema-store';
import { BUCKETS } from './local-lakehouse';

/**
 * The lakehouse's tables under the names the Glue Data Catalog gives them on
 * AWS (packages/contract/src/catalog.ts): `silver_<dataset>`,
 * `rejects_<dataset>`, `gold_<dataset>_<table>` and `quarantine`, found from
 * what is in the buckets, read over the S3 API and served by DuckDB.
 */
export interface LakehouseTable {
  name: string;
  kind: 'silver' | 'rejects' | 'gold' | 'quarantine';
  bucket: string;
  keys: string[];
  /** A silver table's current schema, when its dataset has one. */
  schema?: DatasetSchema;
  /** A gold table's partition column (from its keys, `<column>=<value>/`): last, as Athena puts a partition key. */
  partitionColumn?: string;
}

type DuckCfg = Pick<Config, 'workDir' | 'duckdb'>;

/** Every table, by name: one per dataset's silver and rejects, one per gold table, and quarantine. */
export async function listLakehouseTables(client: S3Client): Promise<LakehouseTable[]> {
  const tables = new Map<string, LakehouseTable>();
  const add = (name: string, kind: LakehouseTable['kind'], bucket: string, key?: string): LakehouseTable => {
    const table = tables.get(name) ?? { name, kind, bucket, keys: [] };
    if (key) table.keys.push(key);
    tables.set(name, table);
    return table;
  };
  add(QUARANTINE_TABLE, 'quarantine', BUCKETS.silver);
  const silverKeys = await listKeys(client, BUCKETS.silver);
  // A dataset's folder is its name (shortened when very long); its schema object names it in full.
  const schemas = new Map<string, DatasetSchema>();
  for (const key of silverKeys) {
    const [prefix = '', folder = ''] = key.split('/');
    if (prefix !== SCHEMA_PREFIX || key !== schemaKey(folder)) continue;
    const schema = (await readSchema(client, BUCKETS.silver, folder))?.schema;
    if (schema) schemas.set(folderOf(schema.dataset), schema);
  }
  const datasetIn = (folder: string) => schemas.get(folder)?.dataset ?? folder;
  for (const schema of schemas.values()) add(silverTable(schema.dataset), 'silver', BUCKETS.silver).schema = schema;
  for (const key of silverKeys) {
    const [first = '', second = ''] = key.split('/');
    if (first === REJECTS_PREFIX && key.endsWith('.parquet')) {
      add(rejectsTable(datasetIn(second)), 'rejects', BUCKETS.silver, key);
    } else if (first === QUARANTINE_PREFIX && key.endsWith('.json')) {
      add(QUARANTINE_TABLE, 'quarantine', BUCKETS.silver, key);
    } else if (!first.startsWith('_') && key.includes('/') && key.endsWith('.parquet')) {
      add(silverTable(datasetIn(first)), 'silver', BUCKETS.silver, key);
    }
  }
  for (const key of await listKeys(client, BUCKETS.gold)) {
    const [dataset = '', table = '', partition = ''] = key.split('/');
    if (dataset !== GOLD_STATE_PREFIX && key.split('/').length > 2 && key.endsWith('.parquet')) {
      const gold = add(goldTable(dataset, table), 'gold', BUCKETS.gold, key);
      gold.partitionColumn ??= /^([^=]+)=/.exec(partition)?.[1];
    }
  }
  return [...tables.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Runs `fn` on a DuckDB connection where the tables are views, also in the
 * schema `lakehouse` (Athena's database) so `lakehouse.<table>` works as on
 * AWS. Their objects are streamed to a temp folder first, removed afterwards
 * (a query needs only the tables it names: `tablesNamedIn`).
 */
export async function withLakehouseTables<T>(
  client: S3Client,
  cfg: DuckCfg,
  tables: readonly LakehouseTable[],
  fn: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(cfg.workDir, 'query-'));
  // Its own instance: the views are this session's, whoever else uses DuckDB in the process.
  const instance = await DuckDBInstance.create(':memory:', duckdbOptions(cfg));
  const connection = await instance.connect();
  try {
    await connection.run(`create schema ${DEFAULT_GLUE_DATABASE}`);
    for (const table of tables) {
      const files = await download(client, table, join(dir, table.name));
      await connection.run(
        `create view ${sqlIdentifier(table.name)} as ${await tableSelect(connection, table, files)}`,
      );
      await connection.run(
        `create view ${DEFAULT_GLUE_DATABASE}.${sqlIdentifier(table.name)} as select * from main.${sqlIdentifier(table.name)}`,
      );
    }
    return await fn(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The tables a query names (as words, in any case): only those need downloading. */
export function tablesNamedIn(sql: string, tables: readonly LakehouseTable[]): LakehouseTable[] {
  const words = new Set(sql.toLowerCase().match(/[a-z0-9_]+/g) ?? []);
  return tables.filter((table) => words.has(table.name));
}

async function download(client: S3Client, table: LakehouseTable, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const extension = table.kind === 'quarantine' ? 'json' : 'parquet';
  const paths = table.keys.map((_, index) => join(dir, `${index}.${extension}`));
  await inParallel(
    table.keys.map((key, index) => ({ key, path: paths[index] as string })),
    DOWNLOAD.concurrency,
    async ({ key, path }) => {
      await downloadToFile(client, { bucket: table.bucket, key }, path);
    },
  );
  return paths;
}

const list = (files: readonly string[]) => `[${files.map(sqlString).join(', ')}]`;

async function tableSelect(connection: DuckDBConnection, table: LakehouseTable, files: string[]): Promise<string> {
  if (table.kind === 'quarantine') {
    // The record's camelCase fields under the catalog's snake_case columns, as Athena's SerDe maps them.
    if (files.length === 0)
      return emptySelect(QUARANTINE_COLUMNS.map(({ column }) => ({ name: column, type: 'VARCHAR' })));
    const fields = QUARANTINE_COLUMNS.map(({ field }) => `${sqlString(field)}: 'VARCHAR'`).join(', ');
    const columns = QUARANTINE_COLUMNS.map(
      ({ column, field }) => `${sqlIdentifier(field)} as ${sqlIdentifier(column)}`,
    );
    return `select ${columns.join(', ')} from read_json(${list(files)}, format = 'unstructured', columns = {${fields}})`;
  }
  const parquet = `read_parquet(${list(files)}, union_by_name = true)`;
  if (table.partitionColumn && files.length > 0) {
    const column = sqlIdentifier(table.partitionColumn);
    return `select * exclude (${column}), ${column} from ${parquet}`;
  }
  if (!table.schema) return files.length === 0 ? 'select null where false' : `select * from ${parquet}`;
  // Silver reads under its dataset's current schema: each column as the schema's type, null where a file lacks it.
  if (files.length === 0) return emptySelect(table.schema.columns);
  const described = await connection.runAndReadAll(`describe select * from ${parquet}`);
  const present = new Set(described.getRowObjectsJS().map((row) => String(row.column_name)));
  const schemaNames = new Set(table.schema.columns.map((column) => column.name));
  const columns = table.schema.columns.map(({ name, type }) =>
    present.has(name)
      ? `cast(${sqlIdentifier(name)} as ${type}) as ${sqlIdentifier(name)}`
      : `null::${type} as ${sqlIdentifier(name)}`,
  );
  const unlisted = [...present].filter((name) => !schemaNames.has(name)).map(sqlIdentifier);
  return `select ${[...columns, ...unlisted].join(', ')} from ${parquet}`;
}

function emptySelect(columns: ReadonlyArray<{ name: string; type: string }>): string {
  return `select ${columns.map(({ name, type }) => `null::${type} as ${sqlIdentifier(name)}`).join(', ')} where false`;
}
