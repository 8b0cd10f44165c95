import { createReadStream } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BUCKETS } from '@lakehouse/app/local/local-lakehouse';
import { listKeys } from '@lakehouse/app/src/io/s3-io';
import { localClientConfig } from '@lakehouse/local-s3';

export { BUCKETS, listKeys };

/** The prefixes the trips dataset writes to. */
export const SILVER_TRIPS_PREFIX = 'trips/';
export const GOLD_TRIPS_PREFIX = 'trips/daily_zone_revenue/';

export const localClient = (endpoint: string) => new S3Client(localClientConfig(endpoint));

/** Streams a file to S3, multipart past 16 MB, as a client of the lakehouse would. */
export async function uploadFile(client: S3Client, bucket: string, key: string, path: string): Promise<void> {
  await new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: createReadStream(path) },
    partSize: 16 * 1024 * 1024,
  }).done();
}
