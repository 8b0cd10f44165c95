import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Dataset } from '../datasets';
import { createRawInputView } from '../ingest/read-raw';
import { publishStaged, stageDataset } from '../ingest/transform';
import { sqlIdentifier, sqlString } from '../io/duckdb';

/** A column as DuckDB writes it to Parquet: its name and DuckDB type. */
export interface ColumnSchema {
  name: string;
  type: string;
}

export interface GoldTableSchema {
  name: string;
  /** The table's columns, without its partition column. */
  columns: ColumnSchema[];
  /** The partition column: in the object keys (`<column>=<value>/`), a partition key in a catalog. */
  partition: ColumnSchema;
}

/** The tables one dataset of transforms/ writes, with their columns. */
export interface DatasetTables {
  dataset: string;
  silver: ColumnSchema[];
  /** Known columns of rejects: rule, row, lineage, and the required columns as written (text). */
  rejects: ColumnSchema[];
  gold: GoldTableSchema[];
}

/**
 * The columns of every table a dataset writes, found by running the pipeline's
 * own transform over a file with the dataset's required columns and no rows:
 * the silver and rejects files it writes are empty, and their schemas are the
 * ones the handler writes for real files. Gold SQL is described over those
 * silver columns plus the partition column, as the gold step runs it.
 */
export async function describeDataset(connection: DuckDBConnection, dataset: Dataset): Promise<DatasetTables> {
  const dir = await mkdtemp(join(tmpdir(), 'describe-tables-'));
  try {
    const columns = dataset.requiredColumns;
    // An empty table, not `where false`: the silver SQL check wants a plan that scans its input.
    const declared = (columns.length ? columns : ['_no_columns']).map((c) => `${sqlIdentifier(c)} varchar`);
    await connection.run(`create or replace temp table raw_named (${declared.join(', ')})`);
    await createRawInputView(connection, { columns });
    const paths = {
      staged: join(dir, 'staged.parquet'),
      silver: join(dir, 'silver.parquet'),
      rejects: join(dir, 'rejects.parquet'),
    };
    await stageDataset(connection, dataset, { columns, format: 'csv' }, paths.staged);
    const lineage = { sourceKey: '', sourceEtag: '', ingestedAt: new Date(0) };
    // One "staged" row makes publishStaged write the rejects file too (with none of the no rows).
    await publishStaged(connection, dataset.rules.length ? 1 : 0, lineage, paths, { rules: dataset.rules });

    const silver = await parquetColumns(connection, paths.silver);
    const rejects = dataset.rules.length ? await parquetColumns(connection, paths.rejects) : [];
    const gold: GoldTableSchema[] = [];
    if (dataset.partition) {
      const { column, expression } = dataset.partition;
      await connection.run(
        `create or replace temp view current_rows as
         select *, (${expression}) as ${sqlIdentifier(column)} from read_parquet(${sqlString(paths.silver)})`,
      );
      for (const table of dataset.goldTables) {
        const described = await describe(connection, `(${table.sql})`);
        const partition = described.find((c) => c.name === column);
        if (!partition)
          throw new Error(`gold table ${dataset.name}.${table.name} must output the partition column ${column}`);
        gold.push({ name: table.name, columns: described.filter((c) => c.name !== column), partition });
      }
    }
    return { dataset: dataset.name, silver, rejects, gold };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every dataset of a transforms folder, described on one in-memory DuckDB. */
export async function describeDatasets(datasets: Iterable<Dataset>): Promise<DatasetTables[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const described: DatasetTables[] = [];
    for (const dataset of datasets) described.push(await describeDataset(connection, dataset));
    return described;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function parquetColumns(connection: DuckDBConnection, path: string): Promise<ColumnSchema[]> {
  return describe(connection, `read_parquet(${sqlString(path)})`);
}

async function describe(connection: DuckDBConnection, relation: string): Promise<ColumnSchema[]> {
  const reader = await connection.runAndReadAll(`describe select * from ${relation}`);
  return reader.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}
