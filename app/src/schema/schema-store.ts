import type { S3Client } from '@aws-sdk/client-s3';
import { schemaKey } from '@lakehouse/contract';
import { getJsonWithETag, putJsonIfUnchanged } from '../io/s3-io';
import type { DatasetSchema } from './dataset-schema';

/**
 * A dataset's current schema is one JSON object in the silver bucket,
 * `_schema/<dataset>/schema.json`, the same on AWS and locally. Writers change it
 * with S3 conditional writes: two files of one dataset ingested at once both
 * read it, and only the first write lands; the other reads it again and
 * decides afresh.
 */
export interface StoredSchema {
  schema: DatasetSchema;
  eTag: string;
}

export async function readSchema(s3: S3Client, bucket: string, dataset: string): Promise<StoredSchema | undefined> {
  const stored = await getJsonWithETag<DatasetSchema>(s3, bucket, schemaKey(dataset));
  return stored && { schema: stored.value, eTag: stored.eTag };
}

/** Writes `schema` if the stored one is still the one read (`read`, or none); false if another writer came first. */
export function writeSchema(
  s3: S3Client,
  bucket: string,
  schema: DatasetSchema,
  read: StoredSchema | undefined,
): Promise<boolean> {
  return putJsonIfUnchanged(s3, bucket, schemaKey(schema.dataset), schema, read?.eTag);
}
