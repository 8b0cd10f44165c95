import { PutObjectCommand } from '@aws-sdk/client-s3';
import { goldManifestKey, goldPartitionKey } from '@lakehouse/contract';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';
import { dateRawObject } from '../support/zones';

const GOLD = 'trips/daily_zone_revenue/';

/** One expected row of daily_zone_revenue. */
const goldRow = (
  pickup_date: string,
  pickup_zone: string,
  trips: number,
  passengers: number,
  fare_total: number,
  distance_km_total: number,
) => ({ pickup_date, pickup_zone, trips, passengers, fare_total, distance_km_total });

describe('trips: gold daily_zone_revenue', () => {
  let lake: TestLakehouse;
  beforeEach(async () => {
    lake = await startTestLakehouse(loadDatasets());
  });
  afterEach(() => lake.close());

  async function ingest(key: string, csv: string) {
    const record = await lake.upload(key, csv);
    return handleS3Event(eventOf(record), lake.rt);
  }

  /** Every gold row, as plain numbers, ordered. */
  async function gold() {
    const rows = [];
    for (const key of await lake.list(BUCKETS.gold, GOLD)) {
      rows.push(
        ...(await lake.readParquet(
          BUCKETS.gold,
          key,
          `select strftime(pickup_date, '%Y-%m-%d') as pickup_date, pickup_zone, trips::int as trips,
                  passengers::int as passengers, fare_total::double as fare_total, round(distance_km_total, 3) as distance_km_total
           from t`,
        )),
      );
    }
    return rows.sort((a, b) => `${a.pickup_date}${a.pickup_zone}`.localeCompare(`${b.pickup_date}${b.pickup_zone}`));
  }

  const JAN_15 = [
    trip({ trip_id: 't1', fare: 10, distance_km: 2, passengers: 1 }),
    trip({ trip_id: 't2', fare: 20, distance_km: 4, passengers: 2 }),
    trip({ trip_id: 't3', fare: 7.5, distance_km: 1.5, passengers: 1, pickup_zone: 'Airport' }),
    trip({ trip_id: 't4', fare: 30, distance_km: 10, passengers: 3, pickup_at: '2026-01-16 23:59:00' }),
  ];
  const EXPECTED_JAN_15 = [
    goldRow('2026-01-15', 'Airport', 1, 1, 7.5, 1.5),
    goldRow('2026-01-15', 'Downtown', 2, 3, 30, 6),
    goldRow('2026-01-16', 'Downtown', 1, 3, 30, 10),
  ];

  it('aggregates a file into one Parquet object per pickup_date partition', async () => {
    await ingest('trips/2026/01/15.csv', tripsCsv(JAN_15));

    expect(await gold()).toEqual(EXPECTED_JAN_15);
    expect(await lake.list(BUCKETS.gold, GOLD)).toEqual([
      goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-01-15'),
      goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-01-16'),
    ]);
    const columns = await lake.readParquet(
      BUCKETS.gold,
      (await lake.list(BUCKETS.gold, GOLD))[0] as string,
      'select column_name, column_type from (describe t)',
    );
    expect(columns).toEqual([
      { column_name: 'pickup_date', column_type: 'DATE' },
      { column_name: 'pickup_zone', column_type: 'VARCHAR' },
      { column_name: 'trips', column_type: 'BIGINT' },
      { column_name: 'passengers', column_type: 'BIGINT' },
      { column_name: 'fare_total', column_type: 'DECIMAL(18,2)' },
      { column_name: 'distance_km_total', column_type: 'DOUBLE' },
    ]);
  });

  it('counts each trip once when the same event is delivered twice', async () => {
    const record = await lake.upload('trips/2026/01/15.csv', tripsCsv(JAN_15));
    await handleS3Event(eventOf(record), lake.rt);
    await handleS3Event(eventOf(record, record), lake.rt);

    expect(await gold()).toEqual(EXPECTED_JAN_15);
  });

  it('counts each trip once when the same file is uploaded again under another key', async () => {
    await ingest('trips/2026/01/15.csv', tripsCsv(JAN_15));
    await ingest('trips/resent/15-copy.csv', tripsCsv(JAN_15));

    expect(await gold()).toEqual(EXPECTED_JAN_15);
  });

  it('takes the values of the file uploaded last when two files share trips', async () => {
    await ingest('trips/a.csv', tripsCsv(JAN_15));
    // t2's fare is corrected, t3 moves to another day and zone, t5 is new.
    await ingest(
      'trips/b.csv',
      tripsCsv([
        trip({ trip_id: 't2', fare: 25, distance_km: 4, passengers: 2 }),
        trip({
          trip_id: 't3',
          fare: 8,
          distance_km: 1.5,
          passengers: 1,
          pickup_zone: 'Harbor',
          pickup_at: '2026-01-16 09:00:00',
        }),
        trip({ trip_id: 't5', fare: 5, distance_km: 1, passengers: 1, pickup_at: '2026-01-16 10:00:00' }),
      ]),
    );

    expect(await gold()).toEqual([
      goldRow('2026-01-15', 'Downtown', 2, 3, 35, 6),
      goldRow('2026-01-16', 'Downtown', 2, 4, 35, 11),
      goldRow('2026-01-16', 'Harbor', 1, 1, 8, 1.5),
    ]);
  });

  it('keeps the values of the file uploaded last when an older file reaches gold after it (a retried event, a lost gold job)', async () => {
    const older = await lake.upload('trips/older.csv', tripsCsv(JAN_15));
    const newer = await lake.upload(
      'trips/newer.csv',
      tripsCsv([trip({ trip_id: 't2', fare: 25, distance_km: 4, passengers: 2 })]),
    );
    // S3 dates objects to the second: the older file a minute before the newer one.
    const now = Math.floor(Date.now() / 1000);
    for (const [key, second] of [
      ['trips/older.csv', now - 120],
      ['trips/newer.csv', now - 60],
    ] as const) {
      await dateRawObject(lake.s3.directory, key, second);
    }
    await handleS3Event(eventOf(newer), lake.rt);
    const [late] = await handleS3Event(eventOf(older), lake.rt);

    // t2 keeps the newer fare (25); the older file's other trips count.
    expect(await gold()).toEqual([
      goldRow('2026-01-15', 'Airport', 1, 1, 7.5, 1.5),
      goldRow('2026-01-15', 'Downtown', 2, 3, 35, 6),
      goldRow('2026-01-16', 'Downtown', 1, 3, 30, 10),
    ]);

    // A silver object written before upload times were kept says none: the file applied last wins, as it did then.
    const silverKey = (late as { silverKey: string }).silverKey;
    await lake.s3.client().send(
      new PutObjectCommand({
        Bucket: BUCKETS.silver,
        Key: silverKey,
        Body: await lake.getBytes(BUCKETS.silver, silverKey),
      }),
    );
    await lake.rt.applyGold({ dataset: 'trips', silverKey });
    expect(await gold()).toEqual(EXPECTED_JAN_15);
  });

  it('removes a partition whose last trip moved away', async () => {
    await ingest('trips/a.csv', tripsCsv([trip({ trip_id: 'x', pickup_at: '2026-02-01 10:00:00' })]));
    await ingest('trips/b.csv', tripsCsv([trip({ trip_id: 'x', pickup_at: '2026-02-02 10:00:00' })]));

    expect(await lake.list(BUCKETS.gold, GOLD)).toEqual([
      goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-02-02'),
    ]);
  });

  it('keeps the last row of a trip repeated within one file', async () => {
    await ingest(
      'trips/repeat.csv',
      tripsCsv([trip({ trip_id: 'r', fare: 1 }), trip({ trip_id: 'r', fare: 2 }), trip({ trip_id: 'r', fare: 3 })]),
    );
    expect(await gold()).toEqual([goldRow('2026-01-15', 'Downtown', 1, 1, 3, 3.5)]);
  });

  it("counts a trip repeated within one file on two days once, on the later row's day", async () => {
    await ingest(
      'trips/moved-within.csv',
      tripsCsv([
        trip({ trip_id: 'm', pickup_at: '2026-03-01 09:00:00', fare: 1 }),
        trip({ trip_id: 'm', pickup_at: '2026-03-02 09:00:00', fare: 2 }),
      ]),
    );
    expect(await gold()).toEqual([goldRow('2026-03-02', 'Downtown', 1, 1, 2, 3.5)]);

    // The earlier row is still in the file's segment: a later update of its day must not read it again.
    await ingest('trips/later.csv', tripsCsv([trip({ trip_id: 'n', pickup_at: '2026-03-01 10:00:00', fare: 5 })]));
    expect(await gold()).toEqual([
      goldRow('2026-03-01', 'Downtown', 1, 1, 5, 3.5),
      goldRow('2026-03-02', 'Downtown', 1, 1, 2, 3.5),
    ]);
  });

  it('does not read again the rows of a day a trip left, once that day is emptied', async () => {
    const day = (d: string) => `2026-03-0${d} 09:00:00`;
    await ingest(
      'trips/f1.csv',
      tripsCsv([trip({ trip_id: 'a', pickup_at: day('1') }), trip({ trip_id: 'b', pickup_at: day('2') })]),
    );
    // a leaves the 1st, which is left with no trip.
    await ingest('trips/f2.csv', tripsCsv([trip({ trip_id: 'a', pickup_at: day('2') })]));
    await ingest('trips/f3.csv', tripsCsv([trip({ trip_id: 'c', pickup_at: day('2') })]));
    expect(await gold()).toEqual([goldRow('2026-03-02', 'Downtown', 3, 3, 37.5, 10.5)]);

    await ingest('trips/f4.csv', tripsCsv([trip({ trip_id: 'd', pickup_at: day('1') })]));
    expect(await gold()).toEqual([
      goldRow('2026-03-01', 'Downtown', 1, 1, 12.5, 3.5),
      goldRow('2026-03-02', 'Downtown', 3, 3, 37.5, 10.5),
    ]);
  });

  it.each([
    ['', false],
    [', in a state written before segments kept the partitions their files hold', true],
  ])('does not read again the rows of a day compacted into a segment of its own%s', async (_, olderState) => {
    const day = (d: string) => `2026-03-0${d} 09:00:00`;
    await ingest(
      'trips/f1.csv',
      tripsCsv([trip({ trip_id: 'a', pickup_at: day('1') }), trip({ trip_id: 'b', pickup_at: day('2') })]),
    );
    if (olderState) {
      const written = JSON.parse(await lake.getText(BUCKETS.gold, goldManifestKey('trips')));
      for (const segment of written.segments) delete segment.held;
      await lake.s3
        .client()
        .send(
          new PutObjectCommand({ Bucket: BUCKETS.gold, Key: goldManifestKey('trips'), Body: JSON.stringify(written) }),
        );
    }
    // One trip a file on the 1st: past COMPACTION.maxSegmentsPerRead, the 1st is compacted alone.
    for (let i = 0; i < 8; i++) {
      await ingest(`trips/p${i}.csv`, tripsCsv([trip({ trip_id: `p${i}`, pickup_at: day('1') })]));
    }
    await ingest(
      'trips/both.csv',
      tripsCsv([trip({ trip_id: 'c', pickup_at: day('2') }), trip({ trip_id: 'd', pickup_at: day('1') })]),
    );

    const manifest = JSON.parse(await lake.getText(BUCKETS.gold, goldManifestKey('trips')));
    expect(manifest.segments.filter((segment: { compacted: boolean }) => segment.compacted)).not.toHaveLength(0);
    expect(await gold()).toEqual([
      goldRow('2026-03-01', 'Downtown', 10, 10, 125, 35),
      goldRow('2026-03-02', 'Downtown', 2, 2, 25, 7),
    ]);
  });

  it('reflects files on the same partitions processed at the same time (no lost update)', async () => {
    const files = Array.from({ length: 6 }, (_, f) =>
      tripsCsv(
        Array.from({ length: 5 }, (_, i) => trip({ trip_id: `c${f}-${i}`, fare: 10, distance_km: 1, passengers: 2 })),
      ),
    );
    const records = [];
    for (const [f, csv] of files.entries()) records.push(await lake.upload(`trips/concurrent/${f}.csv`, csv));

    await Promise.all(records.map((record) => handleS3Event(eventOf(record), lake.rt)));

    expect(await gold()).toEqual([goldRow('2026-01-15', 'Downtown', 30, 60, 300, 30)]);
  });

  it('counts only the rows that pass the rules; rejected rows never reach gold', async () => {
    await ingest(
      'trips/mixed.csv',
      tripsCsv([
        trip({ trip_id: 'good', fare: 10, distance_km: 2, passengers: 2 }),
        trip({ trip_id: 'negative', fare: -10 }),
        trip({ trip_id: 'crowded', passengers: 12 }),
        trip({ trip_id: 'bitcoin', payment_type: 'bitcoin' }),
      ]),
    );

    expect(await gold()).toEqual([goldRow('2026-01-15', 'Downtown', 1, 2, 10, 2)]);
  });

  it('leaves gold as it was when a file is quarantined', async () => {
    await ingest('trips/2026/01/15.csv', tripsCsv(JAN_15));
    const [outcome] = await ingest('trips/broken.csv', 'trip_id,fare\nt1,999\n');

    expect(outcome).toMatchObject({ status: 'quarantined', reason: 'schema' });
    expect(await gold()).toEqual(EXPECTED_JAN_15);
  });

  it('rebuilds only the partitions a new file touches', async () => {
    await ingest('trips/a.csv', tripsCsv(JAN_15));
    const written: string[] = [];
    lake.s3.onObjectCreated((record) => {
      if (record.s3.bucket.name === BUCKETS.gold)
        written.push(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')));
    });

    await ingest('trips/c.csv', tripsCsv([trip({ trip_id: 't9', pickup_at: '2026-01-16 12:00:00' })]));
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(written.filter((key) => key.startsWith(GOLD))).toEqual([
      goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-01-16'),
    ]);
    expect(written.some((key) => key.includes('2026-01-15'))).toBe(false);
  });
});
