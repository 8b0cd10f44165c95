import { gzipSync } from 'node:zlib';
import { quarantineKey, rejectsKey } from '@lakehouse/contract';
import { loadConfig } from '../../src/config';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import { createRuntime } from '../../src/runtime';
import { writeWithDuckDB } from '../support/fixtures';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';

describe('data quality: rejects and quarantine', () => {
  let lake: TestLakehouse;
  beforeAll(async () => {
    lake = await startTestLakehouse(loadDatasets());
  });
  afterAll(() => lake.close());

  describe('rows that break a rule', () => {
    const rows = [
      trip({ trip_id: 'ok-1' }),
      trip({ trip_id: 'ok-2', payment_type: '  CASH ', passengers: 0, fare: 0, distance_km: 0 }),
      trip({ trip_id: '' }),
      trip({ trip_id: 'bad-time', pickup_at: '2026-13-45 25:00' }),
      trip({ trip_id: 'neg-fare', fare: -3 }),
      trip({ trip_id: 'neg-distance', distance_km: -0.1 }),
      trip({ trip_id: 'too-many', passengers: 12 }),
      trip({ trip_id: 'half-person', passengers: '2.5' }),
      trip({ trip_id: 'crypto', payment_type: 'bitcoin' }),
      trip({ trip_id: 'two-faults', fare: 'free', payment_type: 'iou' }),
    ];
    let outcome: Awaited<ReturnType<typeof handleS3Event>>[number];

    beforeAll(async () => {
      const record = await lake.upload('trips/quality/mixed.csv', tripsCsv(rows));
      [outcome] = await handleS3Event(eventOf(record), lake.rt);
    });

    it('sends only the rows that pass every rule to silver, cleaned', async () => {
      expect(outcome).toMatchObject({ status: 'ingested', silverRows: 2, rejectedRows: 8 });
      const silver = await lake.readParquet(
        BUCKETS.silver,
        (outcome as { silverKey: string }).silverKey,
        'select trip_id, payment_type, passengers, fare::double as fare from t order by trip_id',
      );
      expect(silver).toEqual([
        { trip_id: 'ok-1', payment_type: 'card', passengers: 1, fare: 12.5 },
        { trip_id: 'ok-2', payment_type: 'cash', passengers: 0, fare: 0 },
      ]);
    });

    it('sends the others to silver/_rejects with the rule they broke and their values as written', async () => {
      const etag = (outcome as { silverKey: string }).silverKey;
      expect(etag).toBeDefined();
      const keys = await lake.list(BUCKETS.silver, '_rejects/trips/');
      expect(keys).toEqual([(outcome as { rejectsKey: string }).rejectsKey]);
      const rejected = await lake.readParquet(
        BUCKETS.silver,
        keys[0] as string,
        'select _rule, _failed_rules, trip_id, fare, passengers, payment_type, _source_key from t order by _source_row',
      );
      expect(rejected.map((row) => [row.trip_id, row._rule])).toEqual([
        [null, 'trip_id_present'],
        ['bad-time', 'pickup_at_valid_timestamp'],
        ['neg-fare', 'fare_non_negative'],
        ['neg-distance', 'distance_km_non_negative'],
        ['too-many', 'passengers_integer_0_to_9'],
        ['half-person', 'passengers_integer_0_to_9'],
        ['crypto', 'payment_type_accepted'],
        ['two-faults', 'fare_non_negative'],
      ]);
      expect(rejected[5]).toMatchObject({ passengers: '2.5', _source_key: 'trips/quality/mixed.csv' });
      expect(rejected[7]).toMatchObject({
        fare: 'free',
        payment_type: 'iou',
        _failed_rules: ['fare_non_negative', 'payment_type_accepted'],
      });
    });
  });

  it("keeps a rejected row's values exactly as written: quotes, backslashes, line breaks, spaces, non-ASCII, empty", async () => {
    const zone = 'Pier "7" \\ Dock\nsecond line, ünïcödé 🚕';
    const rows = [
      trip({ trip_id: 'awkward', fare: -1, pickup_zone: zone, payment_type: '  Cash  ' }),
      trip({ trip_id: 'empty', fare: -1, pickup_zone: '', payment_type: '{"json": [1]}' }),
    ];
    const [ingested] = await handleS3Event(
      eventOf(await lake.upload('trips/quality/awkward.csv', tripsCsv(rows))),
      lake.rt,
    );

    const rejected = await lake.readParquet(
      BUCKETS.silver,
      (ingested as { rejectsKey: string }).rejectsKey,
      'select trip_id, fare, pickup_zone, payment_type, _rule from t order by _source_row',
    );
    expect(rejected).toEqual([
      { trip_id: 'awkward', fare: '-1', pickup_zone: zone, payment_type: '  Cash  ', _rule: 'fare_non_negative' },
      // An empty CSV field reads as null, as DuckDB reads it.
      { trip_id: 'empty', fare: '-1', pickup_zone: null, payment_type: '{"json": [1]}', _rule: 'fare_non_negative' },
    ]);
  });

  describe('files that cannot be processed', () => {
    const truncatedGzip = gzipSync(Buffer.from(tripsCsv([trip({ trip_id: 'a' })]).repeat(50))).subarray(0, 40);
    const binary = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 37 + 11) % 256));

    // Truncated at a line boundary, and in the middle of a row.
    const cutGzip = (csv: string, keep: number) => {
      const whole = gzipSync(Buffer.from(csv));
      return whole.subarray(0, Math.floor(whole.length * keep));
    };
    const manyTrips = tripsCsv(Array.from({ length: 3000 }, (_, i) => trip({ trip_id: `m${i}`, fare: i % 97 })));

    it.each([
      ['trips/empty.csv', 'empty', ''],
      ['trips/cut-half.csv.gz', 'unreadable', cutGzip(manyTrips, 0.5)],
      ['trips/cut-end.csv.gz', 'unreadable', cutGzip(manyTrips, 0.97)],
      ['trips/header-only.csv', 'empty', 'trip_id,pickup_at,distance_km,fare,passengers,payment_type,pickup_zone\n'],
      ['trips/truncated.csv.gz', 'unreadable', truncatedGzip],
      ['trips/binary.csv', 'unsupported-format', binary],
      ['trips/wrong-schema.csv', 'schema', 'id,when,amount\n1,2026-01-01,3\n'],
      ['trips/broken.json', 'unreadable', '[{"trip_id": "a", "fare": '],
    ])('%s is quarantined as %s without failing the invocation', async (key, reason, body) => {
      const record = await lake.upload(key, body);

      const [outcome] = await handleS3Event(eventOf(record), lake.rt);

      expect(outcome).toMatchObject({ status: 'quarantined', reason });
      const etag = record.s3.object.eTag;
      const recordKey = quarantineKey(key, etag);
      expect((outcome as { quarantineKey: string }).quarantineKey).toBe(recordKey);
      const quarantined = JSON.parse(await lake.getText(BUCKETS.silver, recordKey));
      expect(quarantined).toMatchObject({ bucket: 'raw', key, etag, reason, dataset: 'trips' });
      expect(quarantined.error).toEqual(expect.any(String));
      expect(await lake.list(BUCKETS.silver, `trips/${key.split('/')[1]?.split('.')[0]}-`)).toEqual([]);
      expect(await lake.list(BUCKETS.silver, rejectsKey(key, etag))).toEqual([]);
    });

    it('quarantines a truncated zstd file', async () => {
      const select =
        "select 'z' || i as trip_id, '2026-01-15 08:00' as pickup_at, 1 as distance_km, 2 as fare, 1 as passengers, 'card' as payment_type, 'Downtown' as pickup_zone from range(20000) t(i)";
      const whole = await writeWithDuckDB(lake.cfg, select, 'format csv, compression zstd');
      const record = await lake.upload('trips/cut.csv.zst', whole.subarray(0, Math.floor(whole.length * 0.8)));

      const [outcome] = await handleS3Event(eventOf(record), lake.rt);

      expect(outcome).toMatchObject({ status: 'quarantined', reason: 'unreadable' });
    });

    it('quarantines an object over the size limit without downloading it', async () => {
      const small = createRuntime(loadConfig({ ...lake.env, MAX_OBJECT_BYTES: '100' }), lake.rt.datasets);
      const record = await lake.upload(
        'trips/big.csv',
        tripsCsv(Array.from({ length: 20 }, (_, i) => trip({ trip_id: `b${i}` }))),
      );

      const [outcome] = await handleS3Event(eventOf(record), small);

      expect(outcome).toMatchObject({ status: 'quarantined', reason: 'too-large' });
    });

    it('leaves the raw object as it was', async () => {
      const record = await lake.upload('trips/keep.csv.gz', truncatedGzip);
      await handleS3Event(eventOf(record), lake.rt);
      expect(await lake.list(BUCKETS.raw, 'trips/keep.csv.gz')).toEqual(['trips/keep.csv.gz']);
    });
  });
});
