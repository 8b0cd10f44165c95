// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaWorkgroup } from '@cdktf/provider-aws/lib/athena-workgroup';
import { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database';
import { ENV, glueType, QUARANTINE_COLUMNS } from '@lakehouse/contract';
import { type App, Testing } from 'cdktf';
import type { DatasetTables } from '../../app/src/catalog/table-schemas';
import { describeTransformTables } from '../src/dataset-tables';
import { LakehouseStack, STACK_NAME } from '../src/lakehouse-stack';
import { APP_DIR, type Json, type Synthesized, single, synthLakehouse } from './support/synth';

Testing.setupJest();

const tableConfig = (json: Json, name: string) => {
  const found = Object.values(json.resource.aws_glue_catalog_table as Json).filter((t) => (t as Json).name === name);
  if (found.length !== 1) throw new Error(`expected one table ${name}, found ${found.length}`);
  return found[0] as Json;
};

describe('the lakehouse catalog: Glue tables, Athena workgroup', () => {
  let s: Synthesized;
  let described: DatasetTables[];
  beforeAll(() => {
    s = synthLakehouse();
    described = describeTransformTables(APP_DIR);
  });
  const bucket = (zone: string) => single(s.json, 'aws_s3_bucket', `storage_${zone}_`).ref('bucket');
  const database = () => single(s.json, 'aws_glue_catalog_database', 'catalog_database');
  const table = (name: string) => tableConfig(s.json, name);
  const trips = () => described.find((d) => d.dataset === 'trips') as DatasetTables;

  it('declares the database glue_database (default lakehouse)', () => {
    expect(s.synth).toHaveResourceWithProperties(GlueCatalogDatabase, { name: '${var.glue_database}' });
    expect(s.json.variable.glue_database).toMatchObject({ type: 'string', default: 'lakehouse' });
  });

  it('declares silver_, rejects_ and gold_ tables for every dataset of transforms/, and quarantine', () => {
    const names = Object.values(s.json.resource.aws_glue_catalog_table as Json).map((t) => (t as Json).name);
    expect(names.sort()).toEqual(['gold_trips_daily_zone_revenue', 'quarantine', 'rejects_trips', 'silver_trips']);
    for (const name of names) expect(table(name).database_name).toBe(database().ref('name'));
  });

  it('silver_trips: Parquet at s3://<silver>/trips/, the columns the transform writes, as Glue types', () => {
    expect(table('silver_trips')).toMatchObject({
      table_type: 'EXTERNAL_TABLE',
      parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
      storage_descriptor: {
        location: `s3://${bucket('silver')}/trips/`,
        input_format: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        ser_de_info: { serialization_library: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      },
    });
    // app/test/catalog/catalog-tables.test.ts proves the described columns are those of the files the handler writes.
    expect(table('silver_trips').storage_descriptor.columns).toEqual(
      trips().silver.map((c) => ({ name: c.name, type: glueType(c.type) })),
    );
    expect(table('silver_trips').storage_descriptor.columns).toContainEqual({ name: 'fare', type: 'decimal(12,2)' });
    expect(table('silver_trips').storage_descriptor.columns).toContainEqual({ name: 'pickup_at', type: 'timestamp' });
  });

  it('rejects_trips: at s3://<silver>/_rejects/trips/, with the rules broken and the values as written', () => {
    expect(table('rejects_trips').storage_descriptor.location).toBe(`s3://${bucket('silver')}/_rejects/trips/`);
    expect(table('rejects_trips').storage_descriptor.columns).toEqual(
      trips().rejects.map((c) => ({ name: c.name, type: glueType(c.type) })),
    );
    expect(table('rejects_trips').storage_descriptor.columns).toContainEqual({
      name: '_failed_rules',
      type: 'array<string>',
    });
  });

  it('gold tables: partitioned by the contract partition column, found by projection (no crawler, no registration)', () => {
    const gold = table('gold_trips_daily_zone_revenue');
    expect(gold.storage_descriptor.location).toBe(`s3://${bucket('gold')}/trips/daily_zone_revenue/`);
    expect(gold.partition_keys).toEqual([{ name: 'pickup_date', type: 'date' }]);
    expect(gold.storage_descriptor.columns.map((c: Json) => c.name)).not.toContain('pickup_date');
    expect(gold.storage_descriptor.columns).toContainEqual({ name: 'fare_total', type: 'decimal(18,2)' });
    expect(gold.parameters).toEqual({
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'projection.enabled': 'true',
      'projection.pickup_date.type': 'date',
      'projection.pickup_date.format': 'yyyy-MM-dd',
      'projection.pickup_date.range': '1970-01-01,NOW',
      'projection.pickup_date.interval': '1',
      'projection.pickup_date.interval.unit': 'DAYS',
    });
  });

  it("quarantine: the records' fields as columns, one JSON object per line, read by the OpenX JSON SerDe", () => {
    const quarantine = table('quarantine');
    expect(quarantine.storage_descriptor.location).toBe(`s3://${bucket('silver')}/_quarantine/`);
    expect(quarantine.storage_descriptor.ser_de_info).toEqual({
      serialization_library: 'org.openx.data.jsonserde.JsonSerDe',
      parameters: { 'mapping.version_id': 'versionId', 'mapping.quarantined_at': 'quarantinedAt' },
    });
    expect(quarantine.storage_descriptor.columns).toEqual(
      QUARANTINE_COLUMNS.map((c) => ({ name: c.column, type: 'string' })),
    );
  });

  it('lets the ingestion function keep the tables of datasets without a folder, in this database only', () => {
    const ingest = single(s.json, 'aws_lambda_function', 'ingestion_ingest_function');
    expect(ingest.config.environment.variables[ENV.glueDatabase]).toBe(database().ref('name'));
    const policy = JSON.parse(single(s.json, 'aws_iam_role_policy', 'ingestion_ingest_execution_policy').config.policy);
    const glue =
      'arn:${data.aws_partition.partition.partition}:glue:${var.aws_region}:${data.aws_caller_identity.current.account_id}';
    expect(policy.Statement).toContainEqual({
      Sid: 'MaintainGenericDatasetTables',
      Effect: 'Allow',
      Action: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'],
      Resource: [
        `${glue}:catalog`,
        `${glue}:database/${database().ref('name')}`,
        `${glue}:table/${database().ref('name')}/*`,
      ],
    });
    const gold = JSON.parse(single(s.json, 'aws_iam_role_policy', 'ingestion_gold_execution_policy').config.policy);
    expect(JSON.stringify(gold)).not.toContain('glue:');
  });

  it('an Athena workgroup writes results only to its own encrypted bucket, where they expire', () => {
    const results = single(s.json, 'aws_s3_bucket', 'athena_results');
    expect(results.config.bucket).toBe(
      '${var.bucket_prefix}athena-results-${data.aws_caller_identity.current.account_id}',
    );
    expect(s.synth).toHaveResourceWithProperties(AthenaWorkgroup, {
      name: '${var.lambda_name}',
      configuration: {
        enforce_workgroup_configuration: true,
        publish_cloudwatch_metrics_enabled: true,
        result_configuration: {
          output_location: `s3://${results.ref('bucket')}/`,
          encryption_configuration: { encryption_option: 'SSE_S3' },
        },
      },
    });
    const lifecycle = single(s.json, 'aws_s3_bucket_lifecycle_configuration', 'athena_results-lifecycle');
    expect(lifecycle.config.rule).toContainEqual({
      id: 'expire-objects',
      status: 'Enabled',
      filter: [{}],
      expiration: [{ days: '${var.athena_results_days}' }],
    });
  });

  it('outputs the database, the workgroup and a query to try', () => {
    expect(s.json.output.glue_database.value).toBe(database().ref('name'));
    expect(s.json.output.try_query.value).toContain('select * from gold_trips_daily_zone_revenue limit 10');
  });
});

describe('tables follow the transforms', () => {
  const stackWith = (datasetTables: DatasetTables[]) =>
    JSON.parse(
      Testing.synth(new LakehouseStack(Testing.app() as App, STACK_NAME, { imageContextDir: APP_DIR, datasetTables })),
    ) as Json;

  it('a column added to silver.sql appears in the silver table at the next synth', () => {
    const copy = mkdtempSync(join(tmpdir(), 'transforms-'));
    try {
      cpSync(join(APP_DIR, 'transforms'), copy, { recursive: true });
      const sql = join(copy, 'trips', 'silver.sql');
      writeFileSync(sql, readFileSync(sql, 'utf8').replace('from source', "'eu' as region,\n    from source"));
      const changed = stackWith(describeTransformTables(APP_DIR, copy));
      expect(tableConfig(changed, 'silver_trips').storage_descriptor.columns).toContainEqual({
        name: 'region',
        type: 'string',
      });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('refuses two datasets whose tables would share a name', () => {
    const dataset = (name: string, gold: string): DatasetTables => ({
      dataset: name,
      silver: [{ name: 'id', type: 'VARCHAR' }],
      rejects: [],
      gold: [{ name: gold, columns: [{ name: 'n', type: 'BIGINT' }], partition: { name: 'day', type: 'DATE' } }],
    });
    expect(() => stackWith([dataset('a_b', 'c'), dataset('a', 'b_c')])).toThrow(
      /two tables map to the catalog name gold_a_b_c/,
    );
  });
});
