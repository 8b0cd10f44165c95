import { Readable } from 'node:stream';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';
import { expectCleanOutcome, outputsOf, untimed } from './outcome-checks';

/** Duplicates and races: S3 delivers events at least once, and objects change under a running function. */
describe('duplicates and races', () => {
  let lake: TestLakehouse;
  beforeAll(async () => {
    lake = await startTestLakehouse(loadDatasets());
  });
  afterAll(() => lake.close());

  const gold = (day: string) =>
    lake.readParquet(
      BUCKETS.gold,
      `trips/daily_zone_revenue/pickup_date=${day}/data.parquet`,
      'select trips, fare_total::double as fare from t',
    );

  it('the same event delivered twice at once: one silver object, each trip counted once in gold', async () => {
    const uploaded = Buffer.from(
      tripsCsv([
        trip({ trip_id: 'twice-1', pickup_at: '2026-04-01 08:00:00', fare: 10 }),
        trip({ trip_id: 'twice-2', pickup_at: '2026-04-01 09:00:00', fare: 5 }),
      ]),
    );
    const record = await lake.upload('trips/twice.csv', uploaded);

    const [[first], [second]] = (await Promise.all([
      handleS3Event(eventOf(record), lake.rt),
      handleS3Event(eventOf(record), lake.rt),
    ])) as IngestOutcome[][];

    expect(first).toMatchObject({ status: 'ingested', silverRows: 2 });
    // The same outcome, except that only the one whose write created the dataset's schema reports it.
    const withoutSchema = ({ schemaChanges: _, ...outcome }: IngestOutcome & { schemaChanges?: unknown }) =>
      untimed(outcome);
    expect(withoutSchema(second)).toEqual(withoutSchema(first));
    expect([first, second].filter((outcome) => outcome && 'schemaChanges' in outcome)).toHaveLength(1);
    await expectCleanOutcome(lake, record, uploaded, first);
    expect(await gold('2026-04-01')).toEqual([{ trips: 2n, fare: 15 }]);
  });

  it('an object overwritten while its first version is downloaded: outputs belong to the version read', async () => {
    // Both over one 16 MB range, so a download takes two GETs; the second names the first one's ETag.
    const rows = (n: number, fare: number) =>
      tripsCsv(
        Array.from({ length: n }, (_, i) => trip({ trip_id: `ow-${i}`, pickup_at: '2026-04-02 08:00:00', fare })),
      );
    const first = Buffer.from(rows(350_000, 1));
    const second = Buffer.from(rows(350_000, 2));
    expect(second.length).toBeGreaterThan(16 * 1024 * 1024);
    const key = 'trips/overwritten.csv';
    const firstRecord = await lake.upload(key, first);
    let overwritten: Awaited<ReturnType<TestLakehouse['upload']>> | undefined;
    lake.rt.s3.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName !== 'GetObjectCommand' || overwritten) return result;
        // The first range read whole, then the object replaced before the second range is asked for.
        const output = result.output as { Body: { transformToByteArray(): Promise<Uint8Array> } | Readable };
        const firstRange = await (
          output.Body as { transformToByteArray(): Promise<Uint8Array> }
        ).transformToByteArray();
        overwritten = await lake.upload(key, second);
        output.Body = Readable.from([Buffer.from(firstRange)]);
        return result;
      },
      { step: 'initialize', name: 'overwriteAfterFirstGet' },
    );
    try {
      // S3 would answer the second range 412 (it names the first ETag); s3rver ignores If-Match and sends the new version.
      await expect(handleS3Event(eventOf(firstRecord), lake.rt)).rejects.toThrow(/changed while it was read/);
    } finally {
      lake.rt.s3.middlewareStack.remove('overwriteAfterFirstGet');
    }
    const secondRecord = overwritten as NonNullable<typeof overwritten>;
    // Nothing from the first version, whose read was cut by the overwrite.
    expect(await outputsOf(lake, key, firstRecord.s3.object.eTag)).toEqual([]);

    // The retry of the first event reads the second version, as does the second event: one set of outputs.
    const [retried] = (await handleS3Event(eventOf(firstRecord), lake.rt)) as IngestOutcome[];
    const [own] = (await handleS3Event(eventOf(secondRecord), lake.rt)) as IngestOutcome[];

    expect(retried).toMatchObject({ status: 'ingested', silverRows: 350_000 });
    expect(untimed(own)).toEqual(untimed(retried));
    await expectCleanOutcome(lake, secondRecord, second, own);
    expect(await outputsOf(lake, key, firstRecord.s3.object.eTag)).toEqual([]);
    const lineage = await lake.readParquet(
      BUCKETS.silver,
      (own as { silverKey: string }).silverKey,
      'select distinct _source_etag, fare::double as fare from t',
    );
    expect(lineage).toEqual([{ _source_etag: secondRecord.s3.object.eTag, fare: 2 }]);
    expect(await gold('2026-04-02')).toEqual([{ trips: 350_000n, fare: 700_000 }]);
  });
});
