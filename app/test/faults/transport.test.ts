import { goldManifestKey, goldPendingTablesKey, rejectsKey, silverKey } from '@lakehouse/contract';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import type { Runtime } from '../../src/runtime';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../support/fault-proxy';
import { BUCKETS, eventOf, runtimeThrough, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';
import { expectCleanOutcome, goldSnapshot, outputsOf } from './outcome-checks';

/**
 * Transport faults on the real S3 protocol, through a proxy between the
 * handler's S3 client and the local S3 server. A fault that lasts through the
 * SDK's own retries fails the invocation (Lambda retries it) and leaves no
 * partial or corrupt object in silver or gold; once it is gone, the retry
 * succeeds. Timeouts are short so that a stall costs a second, not a minute.
 */
interface Case {
  name: string;
  rule: Omit<FaultRule, 'times'>;
  /** Where the invocation stopped: what may exist after it (complete) and what must not. */
  stopsAt: 'download' | 'silver upload' | 'gold';
}

const CASES: Case[] = [
  {
    name: 'connection reset mid-download',
    rule: { method: 'GET', bucket: BUCKETS.raw, fault: 'reset-mid-download' },
    stopsAt: 'download',
  },
  {
    name: 'truncated body with a correct Content-Length',
    rule: { method: 'GET', bucket: BUCKETS.raw, fault: 'truncated-body' },
    stopsAt: 'download',
  },
  { name: 'stalled response', rule: { method: 'GET', bucket: BUCKETS.raw, fault: 'stall' }, stopsAt: 'download' },
  {
    name: '500 InternalError on the download',
    rule: { method: 'GET', bucket: BUCKETS.raw, fault: { status: 500, code: 'InternalError' } },
    stopsAt: 'download',
  },
  {
    name: '503 SlowDown on the silver upload',
    rule: { method: 'PUT', bucket: BUCKETS.silver, fault: { status: 503, code: 'SlowDown' } },
    stopsAt: 'silver upload',
  },
  {
    name: 'connection reset mid-upload to silver',
    rule: { method: 'PUT', bucket: BUCKETS.silver, fault: 'reset-mid-upload' },
    stopsAt: 'silver upload',
  },
  {
    name: 'connection reset mid-upload of the gold state',
    rule: { method: 'PUT', bucket: BUCKETS.gold, fault: 'reset-mid-upload' },
    stopsAt: 'gold',
  },
  {
    name: 'connection reset mid-upload of the gold manifest (the commit point)',
    rule: { method: 'PUT', bucket: BUCKETS.gold, key: goldManifestKey('trips'), fault: 'reset-mid-upload' },
    stopsAt: 'gold',
  },
  {
    name: '503 SlowDown reading the gold manifest',
    rule: { method: 'GET', bucket: BUCKETS.gold, fault: { status: 503, code: 'SlowDown' } },
    stopsAt: 'gold',
  },
];

describe('transport faults: a retried invocation, no partial output, success on retry', () => {
  let lake: TestLakehouse;
  let proxy: FaultProxy;
  let rt: Runtime;

  beforeAll(async () => {
    lake = await startTestLakehouse(loadDatasets());
    proxy = await startFaultProxy(lake.s3.endpoint);
    rt = runtimeThrough(lake, proxy.endpoint, { connectionTimeout: 500, requestTimeout: 400 });
  });
  afterEach(() => proxy.clear());
  afterAll(async () => {
    await proxy.close();
    await lake.close();
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, { rule, stopsAt }, i) => {
    // Each case its own day of trips, so that gold holds the earlier cases' days and must not lose them.
    const day = `2026-02-${String(i + 1).padStart(2, '0')}`;
    const csv = tripsCsv([
      trip({ trip_id: `t${i}-1`, pickup_at: `${day} 08:00:00` }),
      trip({ trip_id: `t${i}-2`, pickup_at: `${day} 09:00:00`, fare: -1 }),
    ]);
    const uploaded = Buffer.from(csv);
    const key = `trips/fault-${i}.csv`;
    const record = await lake.upload(key, uploaded);
    const goldBefore = await goldSnapshot(lake, 'trips');
    proxy.inject(rule);

    await expect(handleS3Event(eventOf(record), rt)).rejects.toThrow();

    expect(proxy.faulted).toBeGreaterThan(0);
    // A gold failure comes after silver: silver and its rejects are there, complete. Otherwise nothing is.
    const eTag = record.s3.object.eTag;
    const written: IngestOutcome | undefined =
      stopsAt === 'gold'
        ? {
            status: 'ingested',
            dataset: 'trips',
            format: 'csv',
            silverKey: silverKey(key, eTag),
            rejectsKey: rejectsKey(key, eTag),
            silverRows: 1,
            rejectedRows: 1,
          }
        : undefined;
    await expectCleanOutcome(lake, record, uploaded, written, rt.cfg.workDir);
    if (written?.status === 'ingested') {
      const rows = await lake.readParquet(BUCKETS.silver, written.silverKey, 'select count(*) as n from t');
      expect(rows).toEqual([{ n: 1n }]);
    }
    const goldAfter = await goldSnapshot(lake, 'trips');
    const manifest = goldManifestKey('trips');
    expect(goldAfter[manifest]).toEqual(goldBefore[manifest]);
    // All but the mark of the tables a commit is rewriting, which each commit writes before its tables.
    for (const [object, content] of Object.entries(goldBefore)) {
      if (object !== goldPendingTablesKey('trips')) expect(goldAfter[object]).toEqual(content);
    }
    // New gold objects: only state objects no manifest names yet, and (gold cut at its commit point) the file's own
    // partition, complete: gold tables are written before the manifest, and the commit that takes the number
    // rebuilds them (the retry here, or another file's).
    for (const object of Object.keys(goldAfter).filter((k) => !(k in goldBefore) && !k.startsWith('_state/'))) {
      expect(stopsAt).toBe('gold');
      expect(object).toBe(`trips/daily_zone_revenue/pickup_date=${day}/data.parquet`);
      expect(await lake.readParquet(BUCKETS.gold, object, 'select trips from t')).toEqual([{ trips: 1n }]);
    }

    proxy.clear();
    const [outcome] = (await handleS3Event(eventOf(record), rt)) as IngestOutcome[];

    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 1, rejectedRows: 1 });
    await expectCleanOutcome(lake, record, uploaded, outcome, rt.cfg.workDir);
    const gold = await lake.readParquet(
      BUCKETS.gold,
      `trips/daily_zone_revenue/pickup_date=${day}/data.parquet`,
      'select trips from t',
    );
    expect(gold).toEqual([{ trips: 1n }]);
  });

  it('a fault that lasts one request is absorbed by the SDK’s retry: the invocation succeeds', async () => {
    const uploaded = Buffer.from(tripsCsv([trip({ trip_id: 'once', pickup_at: '2026-03-01 08:00:00' })]));
    const record = await lake.upload('trips/fault-once.csv', uploaded);
    proxy.inject({ method: 'GET', bucket: BUCKETS.raw, fault: 'stall', times: 1 });
    proxy.inject({ method: 'PUT', bucket: BUCKETS.silver, fault: { status: 503, code: 'SlowDown' }, times: 1 });

    const [outcome] = (await handleS3Event(eventOf(record), rt)) as IngestOutcome[];

    expect(proxy.faulted).toBe(2);
    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 1 });
    await expectCleanOutcome(lake, record, uploaded, outcome, rt.cfg.workDir);
  });

  it('still processes the other records of the event before failing it', async () => {
    const csv = (id: string) => Buffer.from(tripsCsv([trip({ trip_id: id, pickup_at: '2026-03-02 08:00:00' })]));
    const failing = await lake.upload('trips/batch-first.csv', csv('batch-1'));
    const fine = await lake.upload('trips/batch-second.csv', csv('batch-2'));
    proxy.inject({
      method: 'GET',
      bucket: BUCKETS.raw,
      key: 'trips/batch-first.csv',
      fault: { status: 500, code: 'InternalError' },
    });

    await expect(handleS3Event(eventOf(failing, fine), rt)).rejects.toMatchObject({ name: 'InternalError' });

    await expectCleanOutcome(lake, failing, csv('batch-1'), undefined, rt.cfg.workDir);
    expect(await outputsOf(lake, 'trips/batch-second.csv', fine.s3.object.eTag)).toHaveLength(1);
  });

  it('an unreachable S3 endpoint fails the invocation rather than quarantining the file', async () => {
    const record = await lake.upload('trips/unreachable.csv', tripsCsv([trip({ trip_id: 'u' })]));
    const closed = await startFaultProxy(lake.s3.endpoint);
    await closed.close();
    const unreachable = runtimeThrough(lake, closed.endpoint, { connectionTimeout: 500, requestTimeout: 400 });

    await expect(handleS3Event(eventOf(record), unreachable)).rejects.toThrow();

    expect(await outputsOf(lake, 'trips/unreachable.csv', record.s3.object.eTag)).toEqual([]);
  });

  it('after a gold commit cut at its manifest and never retried (its job dead-lettered), the next file applies', async () => {
    const day = (d: string, id: string) => Buffer.from(tripsCsv([trip({ trip_id: id, pickup_at: `${d} 08:00:00` })]));
    const cut = await lake.upload('trips/cut-commit.csv', day('2026-03-10', 'cut'));
    proxy.inject({ method: 'PUT', bucket: BUCKETS.gold, key: goldManifestKey('trips'), fault: 'reset-mid-upload' });
    await expect(handleS3Event(eventOf(cut), rt)).rejects.toThrow();
    proxy.clear();

    const next = await lake.upload('trips/after-cut.csv', day('2026-03-11', 'next'));
    const [outcome] = (await handleS3Event(eventOf(next), rt)) as IngestOutcome[];

    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 1 });
    const gold = await lake.readParquet(
      BUCKETS.gold,
      'trips/daily_zone_revenue/pickup_date=2026-03-11/data.parquet',
      'select trips from t',
    );
    expect(gold).toEqual([{ trips: 1n }]);
  });
});
