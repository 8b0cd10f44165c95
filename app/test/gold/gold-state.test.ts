import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { goldManifestKey, goldPartitionKey, goldPendingTablesKey } from '@lakehouse/contract';
import { loadConfig } from '../../src/config';
import { type Dataset, loadDatasets } from '../../src/datasets';
import { readAppliedLedger } from '../../src/gold/applied-ledger';
import { COMPACTION } from '../../src/gold/compaction';
import { type GoldManifest, stateObjectsOf } from '../../src/gold/gold-state';
import { keyRange } from '../../src/gold/key-range';
import { handleS3Event } from '../../src/handler';
import { sqlString, withConnection } from '../../src/io/duckdb';
import { findLeftBehind } from '../../src/replay/left-behind';
import { createRuntime, type Runtime } from '../../src/runtime';
import { failDeletesAfterManifest, failNextManifestPut } from '../support/commit-faults';
import { writeWithDuckDB } from '../support/fixtures';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';
import { dateRawObject } from '../support/zones';

const TABLE = 'trips/daily_zone_revenue/';

/** A day of `n` trips with ids `<prefix>0..n-1`, fare 10 each. */
const day = (prefix: string, n: number, date = '2026-04-01', fare = 10) =>
  tripsCsv(
    Array.from({ length: n }, (_, i) =>
      trip({ trip_id: `${prefix}${i}`, pickup_at: `${date} 09:00:00`, fare, passengers: 1 }),
    ),
  );

describe('gold state: appends, compaction, index runs, retries', () => {
  let lake: TestLakehouse;
  let rt: Runtime;
  /** Keys of the gold objects GET by the runtime since the last reset. */
  let reads: string[];

  beforeEach(async () => {
    lake = await startTestLakehouse(loadDatasets());
    // No cache: every read of a state object shows as a GET.
    rt = createRuntime(loadConfig({ ...lake.env, GOLD_CACHE_MB: '0' }), lake.rt.datasets);
    reads = recordGoldReads(rt);
  });
  afterEach(() => lake.close());

  async function ingest(key: string, csv: string, runtime: Runtime = rt) {
    const [outcome] = await handleS3Event(eventOf(await lake.upload(key, csv)), runtime);
    return outcome;
  }

  async function manifest(): Promise<GoldManifest> {
    return JSON.parse(await lake.getText(BUCKETS.gold, goldManifestKey('trips')));
  }

  /** trips and fare per day, summed over the gold table. */
  async function goldTotals() {
    const totals: Record<string, { trips: number; fare: number }> = {};
    for (const key of await lake.list(BUCKETS.gold, TABLE)) {
      for (const row of await lake.readParquet(
        BUCKETS.gold,
        key,
        "select strftime(pickup_date, '%Y-%m-%d') as d, sum(trips)::int as trips, sum(fare_total)::double as fare from t group by 1",
      )) {
        totals[String(row.d)] = { trips: Number(row.trips), fare: Number(row.fare) };
      }
    }
    return totals;
  }

  /** Every state object in the bucket is named by the manifest, and the reverse. */
  async function expectNoOrphans() {
    const current = await manifest();
    const named = [...stateObjectsOf(current).map((object) => object.key), goldManifestKey('trips')].sort();
    const listed = await lake.list(BUCKETS.gold, '_state/trips/');
    expect(listed.filter((key) => key !== goldPendingTablesKey('trips'))).toEqual(named);
  }

  it('appends one segment, one index run and no rewrite per file', async () => {
    await ingest('trips/a.csv', day('a', 5));
    await ingest('trips/b.csv', day('b', 5));

    const current = await manifest();
    expect(current.version).toBe(2);
    expect(current.segments.map((s) => [s.id, s.compacted, s.partitions])).toEqual([
      [1, false, { '2026-04-01': 5 }],
      [2, false, { '2026-04-01': 5 }],
    ]);
    expect(current.index.map((r) => [r.name, r.rows, r.minKey, r.maxKey])).toEqual([
      ['1', 5, 'a0', 'a4'],
      ['2', 5, 'b0', 'b4'],
    ]);
    expect(current.deletes).toEqual([]);
    expect(await goldTotals()).toEqual({ '2026-04-01': { trips: 10, fare: 100 } });
    await expectNoOrphans();
  });

  it('reads only the index runs whose key range meets the file, and only the touched partitions', async () => {
    await ingest('trips/april.csv', day('a', 3, '2026-04-01'));
    await ingest('trips/may.csv', day('m', 3, '2026-05-01'));
    reads.length = 0;

    await ingest('trips/june.csv', day('z', 3, '2026-06-01'));

    // New keys above every run, a new partition: the manifest (and the pending-tables mark) and nothing else.
    expect(reads.sort()).toEqual([goldManifestKey('trips'), goldPendingTablesKey('trips')].sort());
    reads.length = 0;

    await ingest('trips/april-again.csv', day('a', 1, '2026-04-01', 99));

    // a0 may be in run 1 (a0..a2) only; April's segment is read, May's and June's are not.
    expect(reads.sort()).toEqual(
      [
        '_state/trips/index/1.parquet',
        goldManifestKey('trips'),
        goldPendingTablesKey('trips'),
        '_state/trips/segments/1.parquet',
      ].sort(),
    );
    expect(await goldTotals()).toEqual({
      '2026-04-01': { trips: 3, fare: 119 },
      '2026-05-01': { trips: 3, fare: 30 },
      '2026-06-01': { trips: 3, fare: 30 },
    });
  });

  it('retires the rows a key leaves and drops the state of a partition left empty', async () => {
    await ingest('trips/a.csv', day('k', 2, '2026-04-01'));
    await ingest('trips/b.csv', day('k', 2, '2026-04-02'));

    const current = await manifest();
    expect(await goldTotals()).toEqual({ '2026-04-02': { trips: 2, fare: 20 } });
    expect(await lake.list(BUCKETS.gold, TABLE)).toEqual([
      goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-04-02'),
    ]);
    expect(current.segments.map((s) => s.id)).toEqual([2]);
    expect(current.deletes).toEqual([]);
    await expectNoOrphans();
  });

  it(`compacts the touched partitions once more than ${COMPACTION.maxSegmentsPerRead} segments hold them, exactly`, async () => {
    const files = COMPACTION.maxSegmentsPerRead + 1;
    for (let f = 0; f < files; f++) {
      // Every file re-sends trip s0 with a new fare, and adds two trips of its own.
      await ingest(
        `trips/f${f}.csv`,
        tripsCsv([
          trip({ trip_id: 's0', pickup_at: '2026-04-01 09:00:00', fare: f + 1, passengers: 1 }),
          trip({ trip_id: `n${f}-1`, pickup_at: '2026-04-01 10:00:00', fare: 10, passengers: 1 }),
          trip({ trip_id: `n${f}-2`, pickup_at: '2026-04-02 10:00:00', fare: 10, passengers: 1 }),
        ]),
      );
    }

    const current = await manifest();
    expect(current.segments.filter((s) => s.compacted).map((s) => s.partitions)).toEqual([
      { '2026-04-01': files + 1, '2026-04-02': files },
    ]);
    expect(current.segments).toHaveLength(1);
    expect(current.deletes).toEqual([]);
    expect(await goldTotals()).toEqual({
      '2026-04-01': { trips: files + 1, fare: files + 10 * files },
      '2026-04-02': { trips: files, fare: 10 * files },
    });
    await expectNoOrphans();

    // After compaction a replaced key is still found and replaced exactly.
    await ingest('trips/again.csv', day('s', 1, '2026-04-01', 100));
    expect((await goldTotals())['2026-04-01']).toEqual({ trips: files + 1, fare: 100 + 10 * files });
  });

  it(`merges the smallest index runs beyond ${COMPACTION.maxIndexRuns}, and still finds every key`, async () => {
    const files = COMPACTION.maxIndexRuns + 1;
    for (let f = 0; f < files; f++) await ingest(`trips/r${f}.csv`, day(`r${f}-`, 2, `2026-04-0${(f % 3) + 1}`));

    const current = await manifest();
    expect(current.index).toHaveLength(files - COMPACTION.indexRunsPerMerge + 1);
    expect(current.index.map((run) => run.name)).toContain(`${files}-merged`);
    await expectNoOrphans();

    // Keys from the first file, now in a merged run, move to another day.
    await ingest('trips/moved.csv', day('r0-', 2, '2026-04-09'));
    const totals = await goldTotals();
    expect(totals['2026-04-09']).toEqual({ trips: 2, fare: 20 });
    expect(Object.values(totals).reduce((sum, day) => sum + day.trips, 0)).toBe(files * 2);
  });

  it(`names every applied silver file in its ledger, one with no row too, and merges its runs beyond ${COMPACTION.maxIndexRuns}`, async () => {
    const applied: string[] = [];
    for (let i = 0; i < COMPACTION.maxIndexRuns + 2; i++) {
      const outcome = await ingest(`trips/f${i}.csv`, day(`f${i}-`, 2));
      if (outcome?.status === 'ingested') applied.push(outcome.silverKey);
    }
    // Every row broken: nothing to fold into gold, but the file has been applied all the same.
    const rejected = await ingest('trips/all-rejected.csv', tripsCsv([trip({ trip_id: 'x', fare: -1 })]));
    expect(rejected).toMatchObject({ status: 'ingested', silverRows: 0 });
    if (rejected?.status === 'ingested') applied.push(rejected.silverKey);

    const current = await manifest();
    expect(current.applied.complete).toBe(true);
    expect(current.applied.runs.length).toBeLessThanOrEqual(COMPACTION.maxIndexRuns);
    expect([...(await readAppliedLedger(rt.s3, rt.cfg, current)).keys()].sort()).toEqual(applied.sort());
    await expectNoOrphans();
  });

  it('marks a state begun before the ledger as incomplete, and reconcile then leaves its gold unchecked', async () => {
    await ingest('trips/a.csv', day('a', 2));
    const { applied: _, ...older } = await manifest();
    await lake.s3
      .client()
      .send(new PutObjectCommand({ Bucket: BUCKETS.gold, Key: goldManifestKey('trips'), Body: JSON.stringify(older) }));

    await ingest('trips/b.csv', day('b', 2));

    expect((await manifest()).applied).toMatchObject({ complete: false, runs: [expect.anything()] });
    const found = await findLeftBehind({ s3: rt.s3, zones: BUCKETS, datasets: rt.datasets, cfg: rt.cfg });
    expect(found).toMatchObject({ noOutcome: [], notInGold: [], goldUnchecked: ['trips'] });
  });

  it('lets reconcile read the newer manifest when gold merges away a ledger run it was reading', async () => {
    for (let i = 0; i < COMPACTION.maxIndexRuns; i++) await ingest(`trips/f${i}.csv`, day(`f${i}-`, 1));
    const scanner = lake.s3.client();
    let merged = false;
    // Gold commits while reconcile reads: the commit that adds a ninth run merges the first one away.
    scanner.middlewareStack.add(
      (next, context) => async (args) => {
        const key = String((args.input as { Key?: string }).Key);
        if (!merged && context.commandName === 'GetObjectCommand' && key.endsWith('/applied/1.parquet')) {
          merged = true;
          await ingest('trips/late.csv', day('late-', 1));
        }
        return next(args);
      },
      { step: 'initialize', name: 'commitWhileReading' },
    );

    const found = await findLeftBehind({ s3: scanner, zones: BUCKETS, datasets: rt.datasets, cfg: rt.cfg });

    expect(merged).toBe(true);
    expect((await manifest()).applied.runs.map((run) => run.key)).not.toContain('_state/trips/applied/1.parquet');
    // The late file came after raw was listed; every file listed is found applied.
    expect(found).toMatchObject({ scanned: COMPACTION.maxIndexRuns, noOutcome: [], notInGold: [] });
  });

  it('leaves state as it was when an update fails before its commit, and the retry applies it once', async () => {
    await ingest('trips/a.csv', day('a', 2));
    failNextManifestPut(rt.s3, 'trips');
    const record = await lake.upload('trips/b.csv', day('a', 2, '2026-04-01', 50));

    await expect(handleS3Event(eventOf(record), rt)).rejects.toThrow('connection reset');
    expect((await manifest()).version).toBe(1);

    await handleS3Event(eventOf(record), rt);
    expect((await manifest()).version).toBe(2);
    expect(await goldTotals()).toEqual({ '2026-04-01': { trips: 2, fare: 100 } });
  });

  it('leaves no state object behind when an attempt cut before its manifest is followed by another file', async () => {
    await ingest('trips/a.csv', day('a', 2));
    failNextManifestPut(rt.s3, 'trips');
    // b replaces a's keys, so its attempt writes a deletes object too; c, which takes its commit number, has none.
    const cut = await lake.upload('trips/b.csv', day('a', 2, '2026-04-01', 50));
    await expect(handleS3Event(eventOf(cut), rt)).rejects.toThrow('connection reset');
    expect(await lake.list(BUCKETS.gold, '_state/trips/deletes/')).toEqual(['_state/trips/deletes/2.parquet']);

    await ingest('trips/c.csv', day('c', 2));

    expect((await manifest()).version).toBe(2);
    expect(await goldTotals()).toEqual({ '2026-04-01': { trips: 4, fare: 40 } });
    await expectNoOrphans();
  });

  it('rebuilds the tables an attempt cut before its manifest wrote, when another file takes its number', async () => {
    // Trip t1 moves a day with each file: a, b, c, uploaded in that order.
    const files = ['a', 'b', 'c'].map((name, i) => ({
      key: `trips/${name}.csv`,
      csv: tripsCsv([trip({ trip_id: 't1', pickup_at: `2026-04-0${i + 1} 09:00:00`, fare: 10, passengers: 1 })]),
    }));
    const now = Math.floor(Date.now() / 1000);
    const records = [];
    for (const [i, file] of files.entries()) {
      records.push(await lake.upload(file.key, file.csv));
      await dateRawObject(lake.s3.directory, file.key, now - 60 + i);
    }
    const [a, b, c] = records.map((record) => eventOf(record));
    await handleS3Event(a, rt);
    // b's commit writes the tables of April 1 and 2, then is cut at its manifest: the state still has t1 on April 1.
    failNextManifestPut(rt.s3, 'trips');
    await expect(handleS3Event(b, rt)).rejects.toThrow('connection reset');

    // c takes b's commit number; b, handed back later, yields t1 to c (uploaded after it) and changes no partition.
    await handleS3Event(c, rt);
    await handleS3Event(b, rt);

    expect((await manifest()).version).toBe(3);
    expect(await goldTotals()).toEqual({ '2026-04-03': { trips: 1, fare: 10 } });
  });

  it('removes the table of a new partition a cut attempt wrote, when the commit that takes its number has no row', async () => {
    await ingest('trips/a.csv', day('a', 1, '2026-04-01'));
    failNextManifestPut(rt.s3, 'trips');
    const cut = await lake.upload('trips/b.csv', day('b', 1, '2026-04-02'));
    await expect(handleS3Event(eventOf(cut), rt)).rejects.toThrow('connection reset');
    expect(Object.keys(await goldTotals()).sort()).toEqual(['2026-04-01', '2026-04-02']);

    // Every row of c broken: a commit with nothing to fold in, and no segment serves April 2.
    const empty = await ingest('trips/c.csv', tripsCsv([trip({ trip_id: 'x', fare: -1 })]));

    expect(empty).toMatchObject({ status: 'ingested', silverRows: 0 });
    expect((await manifest()).version).toBe(2);
    expect(await goldTotals()).toEqual({ '2026-04-01': { trips: 1, fare: 10 } });
    await handleS3Event(eventOf(cut), rt);
    expect(await goldTotals()).toEqual({ '2026-04-01': { trips: 1, fare: 10 }, '2026-04-02': { trips: 1, fare: 10 } });
  });

  it('deletes, in the next commit, what a commit let go of when its own cleanup was cut short', async () => {
    const files = COMPACTION.maxIndexRuns + 1;
    for (let f = 1; f < files; f++) await ingest(`trips/r${f}.csv`, day(`r${f}-`, 2));
    // The commit that merges index and ledger runs (and compacts the day's segments) fails to delete what it
    // let go of, after its manifest.
    const undo = failDeletesAfterManifest(rt.s3, 'trips');
    await ingest(`trips/r${files}.csv`, day(`r${files}-`, 2));
    undo();
    const mergedAway = ['_state/trips/index/1.parquet', '_state/trips/applied/1.parquet'];
    expect((await manifest()).garbage).toEqual(expect.arrayContaining(mergedAway));
    expect(await lake.list(BUCKETS.gold, '_state/trips/')).toEqual(expect.arrayContaining(mergedAway));

    await ingest('trips/next.csv', day('next-', 2));

    expect(await goldTotals()).toEqual({ '2026-04-01': { trips: 2 * files + 2, fare: 20 * files + 20 } });
    await expectNoOrphans();
  });

  it('adopts the state an earlier version kept (format 1) in the first update, counting each key once', async () => {
    // Format 1: per partition, the latest row of every key with _partition; one key index.
    const row = (id: string, fare: number, row: number) =>
      `select ${row}::bigint as _source_row, '${id}' as trip_id, timestamp '2026-04-01 09:00:00' as pickup_at,
              3.5::double as distance_km, ${fare}::decimal(12, 2) as fare, 1 as passengers, 'card' as payment_type,
              'Downtown' as pickup_zone, 'trips/v1.csv' as _source_key, 'e1' as _source_etag,
              null::varchar as _source_version_id, timestamptz '2026-03-01 00:00:00+00' as _ingested_at,
              '2026-04-01' as _partition`;
    const put = async (key: string, body: Buffer) =>
      lake.s3.client().send(new PutObjectCommand({ Bucket: BUCKETS.gold, Key: key, Body: body }));
    await put(
      '_state/trips/rows/pickup_date=2026-04-01/rows.parquet',
      await writeWithDuckDB(lake.cfg, `${row('old1', 10, 1)} union all ${row('old2', 10, 2)}`, 'format parquet'),
    );
    await put(
      '_state/trips/key_index.parquet',
      await writeWithDuckDB(
        lake.cfg,
        "select * from (values ('old1', '2026-04-01'), ('old2', '2026-04-01')) t(trip_id, _partition)",
        'format parquet',
      ),
    );

    await ingest(
      'trips/after-upgrade.csv',
      tripsCsv([
        trip({ trip_id: 'old2', pickup_at: '2026-04-01 10:00:00', fare: 50, passengers: 1 }),
        trip({ trip_id: 'new1', pickup_at: '2026-04-01 11:00:00', fare: 10, passengers: 1 }),
      ]),
    );

    expect(await goldTotals()).toEqual({ '2026-04-01': { trips: 3, fare: 70 } });
    expect((await manifest()).segments.map((segment) => segment.key)).toEqual([
      '_state/trips/segments/0-migrated.parquet',
      '_state/trips/segments/1.parquet',
    ]);
    await expectNoOrphans();
  });

  it('refuses gold SQL that writes outside the partitions being rebuilt', async () => {
    const trips = lake.rt.datasets.get('trips') as Dataset;
    const everywhere: Dataset = {
      ...trips,
      goldTables: [
        { name: 'shifted', sql: 'select pickup_date + 1 as pickup_date, count(*) as n from current_rows group by 1' },
      ],
    };
    const shifted = createRuntime(rt.cfg, new Map([['trips', everywhere]]));

    await expect(ingest('trips/a.csv', day('a', 1), shifted)).rejects.toThrow(
      /output rows outside the partitions being rebuilt/,
    );
  });

  it('reads a state object from the cache once it has it', async () => {
    const cached = createRuntime(loadConfig(lake.env), lake.rt.datasets);
    const gets = recordGoldReads(cached);
    await ingest('trips/a.csv', day('a', 2), cached);
    await ingest('trips/b.csv', day('b', 2), cached);
    await ingest('trips/c.csv', day('c', 2), cached);

    // Segments 1 and 2 were written by this runtime: never downloaded.
    expect(gets.filter((key) => key.includes('/segments/'))).toEqual([]);
  });
});

/** The keys of the gold objects `runtime` GETs from now on (observed, not changed). */
function recordGoldReads(runtime: Runtime): string[] {
  const reads: string[] = [];
  runtime.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string };
      if (context.commandName === 'GetObjectCommand' && input.Bucket === BUCKETS.gold) reads.push(String(input.Key));
      return next(args);
    },
    { step: 'initialize', name: 'recordGoldReads' },
  );
  return reads;
}

describe("an index run's key range", () => {
  let workDir: string;
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'key-range-test-'));
  });
  afterAll(() => rm(workDir, { recursive: true, force: true }));

  /** The range of these keys written as a run (row groups of `rowGroup` rows), and the range a scan of the keys gives. */
  async function ranges(keys: string[], rowGroup = 2) {
    const cfg = loadConfig({ SILVER_BUCKET: 's', GOLD_BUCKET: 'g', WORK_DIR: workDir });
    const path = join(workDir, `run-${keys.length}-${rowGroup}.parquet`);
    const values = keys.length
      ? `select * from (values ${keys.map((key) => `(${sqlString(key)})`).join(', ')}) t(key)`
      : 'select null::varchar as key where false';
    return withConnection(cfg, async (connection) => {
      await connection.run(`copy (${values}) to ${sqlString(path)} (format parquet, row_group_size ${rowGroup})`);
      return keyRange(connection, path);
    });
  }

  it('is the smallest and largest key in byte order, across row groups', async () => {
    expect(await ranges(['m', 'b', 'é', 'zz', 'a', '😀', 'c'])).toEqual({ lo: 'a', hi: '😀' });
  });

  it('reads the keys when the statistics are truncated: a key longer than DuckDB keeps in them', async () => {
    const long = 'z'.repeat(300);
    expect(await ranges(['b', long, 'c'])).toEqual({ lo: 'b', hi: long });
    expect(await ranges([`a${long}`, 'y'])).toEqual({ lo: `a${long}`, hi: 'y' });
  });

  it('is empty for a run with no rows', async () => {
    expect(await ranges([])).toEqual({ lo: '', hi: '' });
  });
});
