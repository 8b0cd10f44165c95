import { goldManifestKey, goldPartitionKey, goldPendingTablesKey, silverKey } from '@lakehouse/contract';
import { loadDatasets } from '../../src/datasets';
import type { GoldManifest } from '../../src/gold/gold-state';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import type { Runtime } from '../../src/runtime';
import { type FaultProxy, type ProxiedRequest, startFaultProxy } from '../support/fault-proxy';
import { BUCKETS, eventOf, runtimeThrough, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';

/**
 * On AWS a small file's time is mostly S3 round trips (tens of ms each), and
 * gold's are paid one file at a time per dataset. Through a proxy that delays
 * every request, requests that overlap count once: what is counted is the
 * longest chain of requests each sent after the one before it was answered.
 */
const LATENCY_MS = 40;

/** The longest chain of requests in which each starts after the previous one ended. */
function sequentialRoundTrips(requests: readonly ProxiedRequest[]): number {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  // chain[i]: the longest such chain that ends with request i.
  const chain: number[] = [];
  sorted.forEach((request, i) => {
    const before = chain.filter((_, j) => (sorted[j] as ProxiedRequest).end <= request.start);
    chain[i] = 1 + Math.max(0, ...before);
  });
  return Math.max(0, ...chain);
}

describe("a gold commit's S3 requests", () => {
  let lake: TestLakehouse;
  let proxy: FaultProxy;
  let rt: Runtime;

  beforeAll(async () => {
    lake = await startTestLakehouse(loadDatasets());
    proxy = await startFaultProxy(lake.s3.endpoint);
    rt = runtimeThrough(lake, proxy.endpoint);
    // Gold already holds a file whose keys the measured one repeats: its commit looks them up.
    await handleS3Event(eventOf(await lake.upload('trips/first.csv', tripsCsv(trips(0, 20)))), rt);
  });
  afterAll(async () => {
    await proxy.close();
    await lake.close();
  });

  it('ingestion makes 3 in a row (the raw object, the schema, silver), its gold commit 5, reading no state it wrote', async () => {
    const key = 'trips/second.csv';
    const record = await lake.upload(key, tripsCsv(trips(10, 20)));
    proxy.clear();
    proxy.setLatency(LATENCY_MS);
    const [outcome] = (await handleS3Event(eventOf(record), rt)) as IngestOutcome[];
    proxy.setLatency(0);
    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 20 });

    const silver = silverKey(key, record.s3.object.eTag);
    const gold = (r: ProxiedRequest) => r.bucket === BUCKETS.gold || (r.method === 'GET' && r.key === silver);
    const requests = proxy.requests;
    const describe = (list: readonly ProxiedRequest[]) =>
      list.map((r) => `${Math.round(r.start)}-${Math.round(r.end)} ${r.method} ${r.bucket}/${r.key}`).join('\n');
    // The chains, with every request, so that a failure shows what ran one after another.
    expect({
      ingestion: sequentialRoundTrips(requests.filter((r) => !gold(r))),
      gold: sequentialRoundTrips(requests.filter(gold)),
      requests: describe(requests),
    }).toEqual({ ingestion: 3, gold: 5, requests: describe(requests) });
    // The state objects it reads (the first file's index run) this container wrote: they come from its cache.
    const goldReads = requests.filter((r) => gold(r) && r.method === 'GET').map((r) => r.key);
    expect(goldReads.sort()).toEqual([goldManifestKey('trips'), goldPendingTablesKey('trips'), silver].sort());
  });

  it('sends the gold tables only once their pending mark is written: without the mark, no table', async () => {
    const key = 'trips/new-day.csv';
    const record = await lake.upload(key, tripsCsv([trip({ trip_id: 'n1', pickup_at: '2026-03-09 08:00:00' })]));
    const table = goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-03-09');
    proxy.inject({
      method: 'PUT',
      bucket: BUCKETS.gold,
      key: goldPendingTablesKey('trips'),
      fault: { status: 503, code: 'SlowDown' },
    });

    await expect(handleS3Event(eventOf(record), rt)).rejects.toThrow();
    expect(proxy.faulted).toBeGreaterThan(0);
    expect(await lake.list(BUCKETS.gold, 'trips/')).not.toContain(table);

    proxy.clear();
    const [outcome] = (await handleS3Event(eventOf(record), rt)) as IngestOutcome[];
    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 1 });
    expect(await lake.readParquet(BUCKETS.gold, table, 'select trips from t')).toEqual([{ trips: 1n }]);
  });

  it('ends a failed gold job only once the requests it sent ahead have ended: none lands during the next job', async () => {
    const key = 'trips/cut.csv';
    const record = await lake.upload(key, tripsCsv(trips(100, 5)));
    // A fresh container: its cache does not hold the earlier commits' index runs, so it reads them, and fails there
    // while the segment's server-side copy, sent before, is still on its way.
    const fresh = runtimeThrough(lake, proxy.endpoint);
    const manifest = JSON.parse(await lake.getText(BUCKETS.gold, goldManifestKey('trips'))) as GoldManifest;
    const segment = `_state/trips/segments/${manifest.version + 1}.parquet`;
    proxy.inject({ method: 'PUT', bucket: BUCKETS.gold, key: segment, fault: { delayMs: 400 } });
    for (const run of manifest.index) {
      proxy.inject({ method: 'GET', bucket: BUCKETS.gold, key: run.key, fault: { status: 403, code: 'AccessDenied' } });
    }

    await expect(handleS3Event(eventOf(record), fresh)).rejects.toThrow();
    expect(await lake.list(BUCKETS.gold, '_state/trips/segments/')).toContain(segment);

    proxy.clear();
    const [outcome] = (await handleS3Event(eventOf(record), fresh)) as IngestOutcome[];
    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 5 });
  });
});

function trips(first: number, count: number) {
  return Array.from({ length: count }, (_, i) =>
    trip({ trip_id: `t${first + i}`, pickup_at: `2026-03-0${1 + ((first + i) % 3)} 08:00:00` }),
  );
}
