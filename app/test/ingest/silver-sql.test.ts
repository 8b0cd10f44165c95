import { TRIP_COLUMNS } from '../../local/trip-generator';
import type { Dataset } from '../../src/datasets';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';

/** A dataset like trips whose silver SQL is `sql`. */
function withSilverSql(trips: Dataset, name: string, sql: string): [string, Dataset] {
  return [name, { ...trips, name, silverSql: sql, rules: [], goldTables: [] }];
}

describe('silver SQL: one row per raw row, numbered as in the file', () => {
  let lake: TestLakehouse;
  beforeAll(async () => {
    const trips = loadDatasets().get('trips') as Dataset;
    lake = await startTestLakehouse(
      new Map([
        ['trips', trips],
        withSilverSql(trips, 'filtering', "select * from raw_input where trip_id <> 'b'"),
        withSilverSql(trips, 'no_source', 'select trip_id, pickup_at, fare from raw_input'),
        withSilverSql(trips, 'strict_cast', 'select _source, trip_id, cast(fare as double) as fare from raw_input'),
        [
          'rule_on_source',
          {
            ...trips,
            name: 'rule_on_source',
            rules: [{ name: 'raw_fare_present', check: '_source.fare is not null' }],
            goldTables: [],
          },
        ],
      ]),
    );
  });
  afterAll(() => lake.close());

  async function ingest(key: string, csv: string) {
    const [outcome] = await handleS3Event(eventOf(await lake.upload(key, csv)), lake.rt);
    return outcome;
  }

  it("numbers silver and rejected rows by their row in the file, whatever the rules' verdicts", async () => {
    const rows = [
      trip({ trip_id: 'r1' }),
      trip({ trip_id: 'r2', fare: -1 }),
      trip({ trip_id: 'r3' }),
      trip({ trip_id: 'r4', passengers: 12 }),
      trip({ trip_id: 'r5' }),
    ];
    const outcome = await ingest('trips/numbered.csv', tripsCsv(rows));

    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 3, rejectedRows: 2 });
    const { silverKey, rejectsKey } = outcome as { silverKey: string; rejectsKey: string };
    const silver = await lake.readParquet(BUCKETS.silver, silverKey, 'select _source_row, trip_id from t');
    expect(silver).toEqual([
      { _source_row: 1n, trip_id: 'r1' },
      { _source_row: 3n, trip_id: 'r3' },
      { _source_row: 5n, trip_id: 'r5' },
    ]);
    const rejected = await lake.readParquet(BUCKETS.silver, rejectsKey, 'select _source_row, trip_id, _rule from t');
    expect(rejected).toEqual([
      { _source_row: 2n, trip_id: 'r2', _rule: 'fare_non_negative' },
      { _source_row: 4n, trip_id: 'r4', _rule: 'passengers_integer_0_to_9' },
    ]);
  });

  it('keeps silver columns in order: _source_row, the SQL columns, lineage', async () => {
    const outcome = await ingest('trips/columns.csv', tripsCsv([trip({ trip_id: 'c1' })]));
    const columns = await lake.readParquet(
      BUCKETS.silver,
      (outcome as { silverKey: string }).silverKey,
      'select column_name from (describe t)',
    );
    expect(columns.map((row) => row.column_name)).toEqual([
      '_source_row',
      ...TRIP_COLUMNS,
      '_source_key',
      '_source_etag',
      '_source_version_id',
      '_ingested_at',
    ]);
  });

  it('quarantines the files of a dataset whose SQL drops rows, saying why', async () => {
    const outcome = await ingest('filtering/a.csv', tripsCsv([trip({ trip_id: 'a' }), trip({ trip_id: 'b' })]));

    expect(outcome).toMatchObject({ status: 'quarantined', reason: 'schema' });
    expect((outcome as { error: string }).error).toMatch(
      /filtering silver SQL must keep one row per raw row, in order .* its plan has FILTER/,
    );
    expect(await lake.list(BUCKETS.silver, 'filtering/')).toEqual([]);
  });

  it('quarantines the files of a dataset whose SQL does not pass _source through', async () => {
    const outcome = await ingest('no_source/a.csv', tripsCsv([trip({ trip_id: 'a' })]));

    expect(outcome).toMatchObject({ status: 'quarantined', reason: 'schema' });
    expect((outcome as { error: string }).error).toMatch(/must select _source from raw_input unchanged/);
  });

  it('quarantines as schema a readable file the SQL fails on, not as unreadable', async () => {
    const outcome = await ingest('strict_cast/a.csv', tripsCsv([trip({ trip_id: 'a', fare: 'free' })]));

    expect(outcome).toMatchObject({ status: 'quarantined', reason: 'schema' });
    expect((outcome as { error: string }).error).toMatch(/strict_cast silver SQL or rules failed on this file: .*free/);
  });

  it('quarantines as schema the files of a dataset whose rule reads _source: rules are over the silver columns', async () => {
    const outcome = await ingest('rule_on_source/a.csv', tripsCsv([trip({ trip_id: 'a' })]));

    expect(outcome).toMatchObject({ status: 'quarantined', reason: 'schema' });
    expect((outcome as { error: string }).error).toMatch(
      /rule_on_source silver SQL or rules failed on this file: .*_source/,
    );
  });
});
