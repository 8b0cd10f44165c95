import {
  AlreadyExistsException,
  ConcurrentModificationException,
  CreateTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  type GlueClient,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { folderOf, glueType, silverTable } from '@lakehouse/contract';
import type { DatasetSchema } from '../schema/dataset-schema';

/**
 * The Glue table `silver_<dataset>` of a dataset without a folder under
 * transforms/ (the stack declares the others): created on the dataset's first
 * file, updated when its schema changes. The schema's version is kept in the
 * table's parameters, so a writer that read an older schema never undoes a
 * newer one, and UpdateTable names the table version it read, so two
 * writers never overwrite each other.
 */
export const SCHEMA_VERSION_PARAMETER = 'lakehouse.schema_version';

export type GlueTableChange = 'created' | 'updated' | 'unchanged';

const MAX_TRIES = 5;

export async function syncSilverGlueTable(
  glue: GlueClient,
  database: string,
  silverBucket: string,
  schema: DatasetSchema,
): Promise<GlueTableChange> {
  const input = silverTableInput(silverBucket, schema);
  for (let tries = 1; ; tries++) {
    const existing = await glue
      .send(new GetTableCommand({ DatabaseName: database, Name: input.Name }))
      .then((answer) => answer.Table)
      .catch((error) => {
        if (error instanceof EntityNotFoundException) return undefined;
        throw error;
      });
    try {
      if (!existing) {
        await glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: input }));
        return 'created';
      }
      if (Number(existing.Parameters?.[SCHEMA_VERSION_PARAMETER] ?? 0) >= schema.version) return 'unchanged';
      await glue.send(
        new UpdateTableCommand({ DatabaseName: database, TableInput: input, VersionId: existing.VersionId }),
      );
      return 'updated';
    } catch (error) {
      const raced = error instanceof AlreadyExistsException || error instanceof ConcurrentModificationException;
      if (!raced || tries >= MAX_TRIES) throw error;
    }
  }
}

/** An external Parquet table over the dataset's folder in silver, its columns the schema's, as Glue types. */
export function silverTableInput(silverBucket: string, schema: DatasetSchema): TableInput {
  return {
    Name: silverTable(schema.dataset),
    Description: `Silver rows of dataset ${schema.dataset}, kept by the ingestion function`,
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      [SCHEMA_VERSION_PARAMETER]: String(schema.version),
    },
    StorageDescriptor: {
      Columns: schema.columns.map((column) => ({ Name: column.name.toLowerCase(), Type: glueType(column.type) })),
      Location: `s3://${silverBucket}/${folderOf(schema.dataset)}/`,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: {
        SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        Parameters: { 'serialization.format': '1' },
      },
    },
  };
}

/**
 * Keeps the Glue tables of one container's datasets in step with their
 * schemas: a table is looked at on the first file of a dataset a container
 * sees and whenever the schema's version changes, so a sync that failed
 * (and the invocation with it) is done again by the retry.
 */
export class SilverGlueTables {
  private readonly synced = new Map<string, number>();

  constructor(
    private readonly glue: GlueClient,
    private readonly database: string,
    private readonly silverBucket: string,
  ) {}

  async sync(schema: DatasetSchema): Promise<GlueTableChange> {
    if (this.synced.get(schema.dataset) === schema.version) return 'unchanged';
    const change = await syncSilverGlueTable(this.glue, this.database, this.silverBucket, schema);
    this.synced.set(schema.dataset, schema.version);
    return change;
  }
}
