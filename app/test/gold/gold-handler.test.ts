import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { loadDatasets } from '../../src/datasets';
import type { GoldJob } from '../../src/gold/apply-to-gold';
import { handleGoldMessages } from '../../src/gold-handler';
import { ingestObject } from '../../src/ingest/ingest-object';
import { BUCKETS, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';

/** An SQS FIFO message as the event source mapping delivers it. */
function message(id: string, job: GoldJob): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: JSON.stringify(job),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: job.dataset,
      MessageDeduplicationId: job.silverKey,
      SequenceNumber: id,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:duckdb_ingestion-gold.fifo',
    awsRegion: 'us-east-1',
  };
}

describe('gold function: SQS FIFO messages -> gold', () => {
  let lake: TestLakehouse;
  const jobs: GoldJob[] = [];
  beforeAll(async () => {
    lake = await startTestLakehouse(loadDatasets());
    // Ingestion as on AWS: silver is written and the gold job is queued, not applied.
    const queued = { submit: async (job: GoldJob) => void jobs.push(job) };
    for (const [name, fare] of [
      ['one', 10],
      ['two', 15],
    ] as const) {
      const key = `trips/${name}.csv`;
      const record = await lake.upload(key, tripsCsv([trip({ trip_id: 'same', fare })]));
      await ingestObject({ bucket: BUCKETS.raw, key, eTag: record.s3.object.eTag }, { ...lake.rt, gold: queued });
    }
  });
  afterAll(() => lake.close());

  it('queues one job per silver file, grouped by dataset', () => {
    expect(jobs.map((job) => job.dataset)).toEqual(['trips', 'trips']);
  });

  it('applies the messages in order and reports no failure', async () => {
    const event: SQSEvent = { Records: jobs.map((job, i) => message(String(i + 1), job)) };

    const response = await handleGoldMessages(event, lake.rt);

    expect(response).toEqual({ batchItemFailures: [] });
    const [partition] = await lake.list(BUCKETS.gold, 'trips/daily_zone_revenue/');
    const rows = await lake.readParquet(
      BUCKETS.gold,
      partition as string,
      'select trips::int as trips, fare_total::double as fare from t',
    );
    expect(rows).toEqual([{ trips: 1, fare: 15 }]);
  });

  it('reports a failed message and every later one, so the group keeps its order on retry', async () => {
    const broken = message('1', { dataset: 'trips', silverKey: 'trips/x.parquet' });
    broken.body = '{not json';
    const event: SQSEvent = { Records: [broken, message('2', jobs[0] as GoldJob), message('3', jobs[1] as GoldJob)] };

    const response = await handleGoldMessages(event, lake.rt);

    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: '1' },
      { itemIdentifier: '2' },
      { itemIdentifier: '3' },
    ]);
  });

  it("reports only the later messages of the failed message's own group; other datasets go on", async () => {
    const broken = message('1', { dataset: 'trips', silverKey: 'trips/x.parquet' });
    broken.body = '{not json';
    const otherDataset = message('2', { dataset: 'weather', silverKey: 'weather/stations.parquet' });
    const event: SQSEvent = { Records: [broken, otherDataset, message('3', jobs[0] as GoldJob)] };

    const response = await handleGoldMessages(event, lake.rt);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '1' }, { itemIdentifier: '3' }]);
  });
});
