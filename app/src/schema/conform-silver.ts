import { rename } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { PARQUET as SILVER_PARQUET } from '../ingest/transform';
import { copyRows, sqlIdentifier, sqlString } from '../io/duckdb';
import { logger } from '../logger';
import {
  type DatasetSchema,
  incompatible,
  planSchema,
  type SchemaChange,
  type SchemaColumn,
  type SchemaEvolution,
  type TextCast,
} from './dataset-schema';
import { readSchema, writeSchema } from './schema-store';

export interface ConformInput {
  s3: S3Client;
  bucket: string;
  dataset: string;
  evolution: SchemaEvolution;
  /** The local silver file, rewritten in place when columns must be cast. */
  silverPath: string;
  sourceKey: string;
  now: Date;
}

export interface SchemaOutcome {
  schema: DatasetSchema;
  /** What this file changed (none when it fits the schema as it is). */
  changes: SchemaChange[];
}

/** Writers that lost the race read the schema again; past this many tries the invocation fails and is retried. */
const MAX_TRIES = 8;

/**
 * Makes a silver file fit its dataset's schema before it is published: casts
 * the columns the schema reads as another type, and records what the file
 * adds (new columns, wider types) in the schema. A file that cannot fit is a
 * PoisonFileError `schema`, so no silver file ever breaks reading the table.
 */
export async function conformToSchema(connection: DuckDBConnection, input: ConformInput): Promise<SchemaOutcome> {
  const { s3, bucket, dataset, silverPath } = input;
  for (let tries = 1; ; tries++) {
    const stored = await readSchema(s3, bucket, dataset);
    const file = await parquetColumns(connection, silverPath);
    const plan = planSchema({
      dataset,
      current: stored?.schema,
      file,
      evolution: input.evolution,
      sourceKey: input.sourceKey,
      at: input.now,
    });
    await castColumns(connection, silverPath, dataset, plan.casts, plan.textCasts);
    if (!plan.next) return { schema: stored?.schema as DatasetSchema, changes: [] };
    if (await writeSchema(s3, bucket, plan.next, stored)) {
      const changes = plan.next.changes.slice(stored?.schema.changes.length ?? 0);
      logger.info('dataset schema changed', { dataset, version: plan.next.version, changes });
      return { schema: plan.next, changes };
    }
    if (tries >= MAX_TRIES) {
      throw new Error(`the schema of dataset ${dataset} kept changing under this file (${tries} tries); retry`);
    }
    await new Promise((done) => setTimeout(done, 20 + Math.random() * 100 * tries));
  }
}

async function parquetColumns(connection: DuckDBConnection, path: string): Promise<SchemaColumn[]> {
  const described = await connection.runAndReadAll(`describe select * from read_parquet(${sqlString(path)})`);
  return described.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

/**
 * Rewrites the file with some columns cast. A text column cast to a typed
 * one must cast every value: the first that does not names the column and
 * the value in the quarantine error.
 */
async function castColumns(
  connection: DuckDBConnection,
  path: string,
  dataset: string,
  casts: readonly SchemaColumn[],
  textCasts: readonly TextCast[],
): Promise<void> {
  const all = [...casts, ...textCasts];
  if (all.length === 0) return;
  const file = `read_parquet(${sqlString(path)})`;
  const replaced = all.map(({ name, type }) => `cast(${sqlIdentifier(name)} as ${type}) as ${sqlIdentifier(name)}`);
  const conformed = `${path}.conformed`;
  try {
    await copyRows(connection, `select * replace (${replaced.join(', ')}) from ${file}`, conformed, SILVER_PARQUET);
  } catch (error) {
    for (const { name, type, from } of textCasts) {
      const column = sqlIdentifier(name);
      const bad = await connection.runAndReadAll(
        `select ${column} as value from ${file} where ${column} is not null and try_cast(${column} as ${type}) is null limit 1`,
      );
      const value = bad.getRowObjectsJS()[0]?.value;
      if (value !== undefined) {
        throw incompatible(dataset, name, from, type, ` (its value ${JSON.stringify(String(value))} is not one)`);
      }
    }
    throw error;
  }
  await rename(conformed, path);
}
