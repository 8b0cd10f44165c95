import { GlueClient } from '@aws-sdk/client-glue';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '@lakehouse/local-s3';
import { SilverGlueTables, syncSilverGlueTable } from '../../src/catalog/silver-glue-table';
import { loadConfig } from '../../src/config';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import { createRuntime } from '../../src/runtime';
import type { DatasetSchema } from '../../src/schema/dataset-schema';
import { type GlueServer, startGlueServer } from '../support/glue-server';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';

const DATABASE = 'lakehouse';

describe('Glue tables of datasets without a folder', () => {
  let lake: TestLakehouse;
  let glue: GlueServer;
  let client: GlueClient;

  beforeAll(async () => {
    [lake, glue] = await Promise.all([startTestLakehouse(loadDatasets()), startGlueServer()]);
    client = new GlueClient({ endpoint: glue.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    lake.rt.silverTables = new SilverGlueTables(client, DATABASE, BUCKETS.silver);
  });
  afterAll(async () => {
    client.destroy();
    await Promise.all([lake.close(), glue.close()]);
  });
  beforeEach(() => {
    glue.requests.length = 0;
  });

  const ingest = async (key: string, body: string) => handleS3Event(eventOf(await lake.upload(key, body)), lake.rt);

  it('creates silver_<dataset> on the first file: Parquet at s3://<silver>/<dataset>/, the columns as Glue types', async () => {
    await ingest('orders/1.csv', 'order_id,amount,placed_on\n1,9.5,2026-01-02\n');

    expect(glue.requests.map((request) => request.operation)).toEqual(['GetTable', 'CreateTable']);
    const table = glue.tables.get(`${DATABASE}.silver_orders`)?.input;
    expect(table).toMatchObject({
      Name: 'silver_orders',
      TableType: 'EXTERNAL_TABLE',
      Parameters: { classification: 'parquet', 'lakehouse.schema_version': '1' },
      StorageDescriptor: {
        Location: 's3://silver/orders/',
        SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      },
    });
    expect(table?.StorageDescriptor?.Columns).toEqual([
      { Name: '_source_row', Type: 'bigint' },
      { Name: 'order_id', Type: 'bigint' },
      { Name: 'amount', Type: 'double' },
      { Name: 'placed_on', Type: 'date' },
      { Name: '_source_key', Type: 'string' },
      { Name: '_source_etag', Type: 'string' },
      { Name: '_source_version_id', Type: 'string' },
      { Name: '_ingested_at', Type: 'timestamp' },
    ]);
  });

  it('updates it on a new column, naming the table version it read; a file that changes nothing calls Glue no more', async () => {
    await ingest('orders/2.csv', 'order_id,amount,placed_on,coupon\n2,3.0,2026-01-03,SPRING\n');
    await ingest('orders/3.csv', 'order_id,amount,placed_on\n3,4.0,2026-01-04\n');

    expect(glue.requests.map((request) => request.operation)).toEqual(['GetTable', 'UpdateTable']);
    expect(glue.requests[1]?.body).toMatchObject({ DatabaseName: DATABASE, VersionId: '1' });
    const table = glue.tables.get(`${DATABASE}.silver_orders`);
    expect(table?.versionId).toBe(2);
    expect(table?.input.StorageDescriptor?.Columns?.at(-1)).toEqual({ Name: 'coupon', Type: 'string' });
    expect(table?.input.Parameters?.['lakehouse.schema_version']).toBe('2');
  });

  it('never undoes a newer schema with an older one', async () => {
    const older: DatasetSchema = {
      dataset: 'orders',
      version: 1,
      columns: [{ name: 'x', type: 'BIGINT' }],
      changes: [],
    };

    expect(await syncSilverGlueTable(client, DATABASE, BUCKETS.silver, older)).toBe('unchanged');
    expect(glue.requests.map((request) => request.operation)).toEqual(['GetTable']);
  });

  it('leaves datasets with a folder to the stack', async () => {
    await ingest('trips/day.csv', tripsCsv([trip({ trip_id: 'a' })]));

    expect(glue.requests).toEqual([]);
  });

  it('is on where GLUE_DATABASE is set (on AWS), off where it is not (local runs)', () => {
    const withGlue = createRuntime(loadConfig({ ...lake.env, GLUE_DATABASE: DATABASE }), new Map());
    const without = createRuntime(loadConfig(lake.env), new Map());

    expect(withGlue.silverTables).toBeInstanceOf(SilverGlueTables);
    expect(without.silverTables).toBeUndefined();
    withGlue.s3.destroy();
    without.s3.destroy();
  });
});
