import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import type { Runtime } from '../../src/runtime';
import type { StepsMs } from '../../src/step-times';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { BUCKETS, eventOf, runtimeThrough, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { tripsToSplit } from '../support/trips';

/** Longer than any step of these small files takes: a step that holds it is the one that waited. */
const SLOW_LINK_MS = 1500;

describe("the outcome's step times: where an object's time went", () => {
  let lake: TestLakehouse;
  let proxy: FaultProxy;
  let rt: Runtime;
  beforeAll(async () => {
    lake = await startTestLakehouse();
    proxy = await startFaultProxy(lake.s3.endpoint);
    rt = runtimeThrough(lake, proxy.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await lake.close();
  });
  afterEach(() => proxy.clear());

  async function timedIngest(key: string, runtime: Runtime): Promise<{ stepsMs: StepsMs; wallMs: number }> {
    const record = await lake.upload(key, tripsToSplit());
    const started = performance.now();
    const [outcome] = (await handleS3Event(eventOf(record), runtime)) as IngestOutcome[];
    const wallMs = performance.now() - started;
    expect(outcome).toMatchObject({ status: 'ingested' });
    return { stepsMs: (outcome as { stepsMs: StepsMs }).stepsMs, wallMs };
  }

  const total = (stepsMs: StepsMs) => Object.values(stepsMs).reduce((sum, ms) => sum + ms, 0);

  it('a whole file: download, stage, publish, upload, gold, each waited for where it happens', async () => {
    // The raw object comes down over a slow link, and silver goes up over one.
    proxy.inject({ method: 'GET', bucket: BUCKETS.raw, fault: { delayMs: SLOW_LINK_MS } });
    proxy.inject({ method: 'PUT', bucket: BUCKETS.silver, fault: { delayMs: SLOW_LINK_MS } });

    const { stepsMs, wallMs } = await timedIngest('trips/timed.csv', rt);

    expect(Object.keys(stepsMs)).toEqual(['download', 'stage', 'publish', 'upload', 'gold']);
    expect(stepsMs.download).toBeGreaterThanOrEqual(SLOW_LINK_MS);
    expect(stepsMs.upload).toBeGreaterThanOrEqual(SLOW_LINK_MS);
    expect(stepsMs.stage).toBeLessThan(SLOW_LINK_MS);
    expect(stepsMs.gold).toBeLessThan(SLOW_LINK_MS);
    // Each millisecond counted once: the steps add up to no more than the handler's time.
    expect(total(stepsMs)).toBeLessThanOrEqual(wallMs + Object.keys(stepsMs).length);
  });

  it('a file in chunks: plan, chunks, commit', async () => {
    const chunkedRt = { ...rt, chunks: { chunkBytes: 600, concurrency: 2, retryDelaysMs: [] } };
    // The plan's first read of the raw object is slow.
    proxy.inject({ method: 'GET', bucket: BUCKETS.raw, fault: { delayMs: SLOW_LINK_MS }, times: 1 });

    const { stepsMs, wallMs } = await timedIngest('trips/timed-in-chunks.csv', chunkedRt);

    expect(Object.keys(stepsMs)).toEqual(['plan', 'chunks', 'commit']);
    expect(stepsMs.plan).toBeGreaterThanOrEqual(SLOW_LINK_MS);
    expect(stepsMs.chunks).toBeLessThan(SLOW_LINK_MS);
    expect(stepsMs.commit).toBeLessThan(SLOW_LINK_MS);
    expect(total(stepsMs)).toBeLessThanOrEqual(wallMs + Object.keys(stepsMs).length);
  });
});
