import { QUARANTINE_COLUMNS, QUARANTINE_PREFIX, REJECTS_PREFIX } from '@lakehouse/contract';
import { type ColumnSchema, type DatasetTables, describeDatasets } from '../../src/catalog/table-schemas';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';

/** Name and DuckDB type of every column of a Parquet object the handler wrote. */
async function writtenColumns(lake: TestLakehouse, bucket: string, key: string): Promise<ColumnSchema[]> {
  const rows = await lake.readParquet(bucket, key, 'select column_name, column_type from (describe t)');
  return rows.map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

describe('the catalog columns of a dataset (what the stack declares in Glue)', () => {
  let lake: TestLakehouse;
  let described: DatasetTables;
  beforeAll(async () => {
    const datasets = loadDatasets();
    [described] = (await describeDatasets([datasets.get('trips')].filter((d) => d !== undefined))) as DatasetTables[];
    lake = await startTestLakehouse(datasets);
    const csv = tripsCsv([
      trip({ trip_id: 'c1' }),
      trip({ trip_id: 'c2', fare: -3 }),
      trip({ trip_id: 'c3', pickup_zone: 'Airport', passengers: 2 }),
    ]);
    await handleS3Event(eventOf(await lake.upload('trips/catalog.csv', csv)), lake.rt);
  });
  afterAll(() => lake.close());

  it('silver: exactly the columns and types of the silver file the handler writes', async () => {
    const [key] = (await lake.list(BUCKETS.silver, 'trips/')) as string[];
    expect(await writtenColumns(lake, BUCKETS.silver, key)).toEqual(described.silver);
  });

  it('rejects: exactly the columns of the rejects file of a file with the required columns', async () => {
    const [key] = (await lake.list(BUCKETS.silver, `${REJECTS_PREFIX}/trips/`)) as string[];
    expect(await writtenColumns(lake, BUCKETS.silver, key)).toEqual(described.rejects);
  });

  it('gold: the columns of each gold partition file, the partition column as the partition key', async () => {
    expect(described.gold.map((table) => table.name)).toEqual(['daily_zone_revenue']);
    const [table] = described.gold;
    const [key] = (await lake.list(BUCKETS.gold, 'trips/daily_zone_revenue/')) as string[];
    expect(key).toMatch(/\/pickup_date=2026-01-15\//);
    const written = await writtenColumns(lake, BUCKETS.gold, key);
    const byName = (a: ColumnSchema, b: ColumnSchema) => a.name.localeCompare(b.name);
    expect([...written].sort(byName)).toEqual([...(table?.columns ?? []), table?.partition].sort(byName as never));
    expect(table?.partition).toEqual({ name: 'pickup_date', type: 'DATE' });
  });

  it('quarantine: a record holds exactly the fields the quarantine table maps to columns, on one line', async () => {
    await handleS3Event(eventOf(await lake.upload('trips/empty.csv', '')), lake.rt);
    const [key] = (await lake.list(BUCKETS.silver, `${QUARANTINE_PREFIX}/trips/`)) as string[];
    const text = await lake.getText(BUCKETS.silver, key);
    expect(text.endsWith('\n') && text.trimEnd().split('\n')).toHaveLength(1);
    expect(Object.keys(JSON.parse(text)).sort()).toEqual(QUARANTINE_COLUMNS.map((c) => c.field).sort());
  });
});
