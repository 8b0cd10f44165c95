import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaEvolution } from './schema/dataset-schema';

/** A dataset is a folder under transforms/: contract.json, silver.sql, gold/*.sql. */
export interface Dataset {
  name: string;
  requiredColumns: string[];
  rules: Rule[];
  /** Column that identifies a row across files: each key counts once in gold. */
  key?: string;
  /** How gold tables are partitioned: a column computed from silver rows. */
  partition?: { column: string; expression: string };
  silverSql: string;
  goldTables: GoldTable[];
  /** What a file with a new column does: `additive` (default) adds it to the schema, `strict` quarantines the file. */
  schemaEvolution: SchemaEvolution;
}

export interface Rule {
  name: string;
  /** A SQL boolean over silver columns; a row passes when it is true. */
  check: string;
}

export interface GoldTable {
  name: string;
  sql: string;
}

export class DatasetDefinitionError extends Error {
  override name = 'DatasetDefinitionError';
}

/** transforms/ beside the bundle (the image) or beside src/ (the workspace). */
export function defaultTransformsDir(): string {
  const candidates = [join(__dirname, 'transforms'), join(__dirname, '..', 'transforms')];
  return candidates.find((dir) => existsSync(dir)) ?? (candidates[1] as string);
}

const NAME = /^[a-z][a-z0-9_]*$/;

export function loadDataset(dir: string, name: string): Dataset {
  const contractPath = join(dir, 'contract.json');
  const contract = existsSync(contractPath) ? JSON.parse(readFileSync(contractPath, 'utf8')) : {};
  const silverPath = join(dir, 'silver.sql');
  if (!existsSync(silverPath)) throw new DatasetDefinitionError(`dataset ${name}: ${silverPath} is missing`);
  const goldDir = join(dir, 'gold');
  const goldTables = existsSync(goldDir)
    ? readdirSync(goldDir)
        .filter((file) => file.endsWith('.sql'))
        .sort()
        .map((file) => ({ name: file.replace(/\.sql$/, ''), sql: readFileSync(join(goldDir, file), 'utf8') }))
    : [];
  const dataset: Dataset = {
    name,
    requiredColumns: contract.requiredColumns ?? [],
    rules: contract.rules ?? [],
    key: contract.key,
    partition: contract.partition,
    silverSql: readFileSync(silverPath, 'utf8'),
    goldTables,
    schemaEvolution: contract.schemaEvolution ?? 'additive',
  };
  validate(dataset);
  return dataset;
}

function validate(dataset: Dataset): void {
  const problem = (what: string) => new DatasetDefinitionError(`dataset ${dataset.name}: ${what}`);
  // The name is an S3 prefix and an SQS message group id.
  if (!NAME.test(dataset.name)) throw problem('the folder name must be snake_case');
  for (const rule of dataset.rules) {
    if (!rule.name || !rule.check) throw problem('every rule needs a name and a check');
  }
  for (const table of dataset.goldTables) {
    if (!NAME.test(table.name)) throw problem(`gold table name "${table.name}" must be snake_case`);
  }
  if (dataset.goldTables.length > 0 && (!dataset.key || !dataset.partition)) {
    throw problem('gold tables need "key" and "partition" in contract.json');
  }
  if (!['additive', 'strict'].includes(dataset.schemaEvolution)) {
    throw problem('schemaEvolution must be "additive" or "strict"');
  }
  if (dataset.partition && !NAME.test(dataset.partition.column)) throw problem('partition.column must be snake_case');
}

/** Every dataset folder under `dir`, read once (at cold start). */
export function loadDatasets(dir: string = defaultTransformsDir()): Map<string, Dataset> {
  const datasets = new Map<string, Dataset>();
  if (!existsSync(dir)) return datasets;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !entry.name.startsWith('_') && !entry.name.startsWith('.')) {
      datasets.set(entry.name, loadDataset(join(dir, entry.name), entry.name));
    }
  }
  return datasets;
}
