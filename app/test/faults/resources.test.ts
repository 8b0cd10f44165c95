import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeTrips } from '../../local/trip-generator';
import { loadConfig } from '../../src/config';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { createRuntime } from '../../src/runtime';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { expectCleanOutcome } from './outcome-checks';

/** Bytes in DuckDB's spill folder now. */
function spilled(dir: string): number {
  try {
    return readdirSync(dir).reduce((bytes, file) => bytes + statSync(join(dir, file)).size, 0);
  } catch {
    return 0;
  }
}

const TRIPS = 600_000;

describe('resources: DuckDB at its memory limit', () => {
  let lake: TestLakehouse;
  beforeAll(async () => {
    lake = await startTestLakehouse(loadDatasets());
  });
  afterAll(() => lake.close());

  it('a file beyond a 256 MB function’s DuckDB memory (128 MB), every key twice, spills to the work folder and completes, exactly', async () => {
    // The first DuckDB of this test file, so it is created with this runtime's limit.
    const rt = createRuntime(loadConfig({ ...lake.env, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' }), lake.rt.datasets);
    expect(rt.cfg.duckdb.memoryLimitMb).toBe(128);
    const path = join(lake.cfg.workDir, 'many.csv');
    // Every trip twice (a file of updates): gold must find the later row of 300,000 repeated keys.
    await writeTrips(path, { rows: TRIPS });
    const once = readFileSync(path);
    const uploaded = Buffer.concat([once, once.subarray(once.indexOf(0x0a) + 1)]);
    const record = await lake.upload('trips/many.csv', uploaded);
    const spill = join(rt.cfg.workDir, 'duckdb', 'spill');
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, spilled(spill));
    }, 10);

    let outcome: IngestOutcome | undefined;
    try {
      [outcome] = await handleS3Event(eventOf(record), rt);
    } finally {
      clearInterval(watch);
    }

    expect(peak).toBeGreaterThan(0);
    expect(spilled(spill)).toBe(0);
    expect(outcome).toMatchObject({ status: 'ingested' });
    const { silverRows, rejectedRows } = outcome as Extract<IngestOutcome, { status: 'ingested' }>;
    expect(silverRows + rejectedRows).toBe(2 * TRIPS);
    // A parallel scan of 72 MB: every row keeps its number in the file (trip n is row n, and row n + TRIPS).
    const { silverKey, rejectsKey } = outcome as { silverKey: string; rejectsKey: string };
    const misnumbered = `select count(*) filter (where (_source_row - 1) % ${TRIPS} + 1 <> cast(split_part(trip_id, '-', 2) as bigint)) as n from t`;
    expect(await lake.readParquet(BUCKETS.silver, silverKey, misnumbered)).toEqual([{ n: 0n }]);
    expect(await lake.readParquet(BUCKETS.silver, rejectsKey, `${misnumbered} where trip_id <> ''`)).toEqual([
      { n: 0n },
    ]);
    await expectCleanOutcome(lake, record, uploaded, outcome);
    const gold = await lake.list(BUCKETS.gold, 'trips/daily_zone_revenue/');
    const trips = await Promise.all(
      gold.map((key) => lake.readParquet(BUCKETS.gold, key, 'select sum(trips)::bigint as n from t')),
    );
    // Each trip once: the pairs' rows are alike, so half the silver rows.
    expect(trips.reduce((sum, [row]) => sum + Number(row?.n), 0)).toBe(silverRows / 2);
  });
});
