import { S3ServiceException } from '@aws-sdk/client-s3';
import { loadDatasets } from '../src/datasets';
import { handleS3Event } from '../src/handler';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from './support/lakehouse';
import { trip, tripsCsv } from './support/trips';

/** S3 answering 503 SlowDown after the SDK's own retries: a fault the local server cannot produce on demand. */
function slowDownOnce(lake: TestLakehouse, command: string) {
  let armed = true;
  lake.rt.s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (armed && context.commandName === command) {
        armed = false;
        throw new S3ServiceException({
          name: 'SlowDown',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
          message: 'Please reduce your request rate.',
        });
      }
      return next(args);
    },
    { step: 'initialize', name: `slowDownOnce-${command}` },
  );
}

describe('transient faults fail the invocation so that Lambda retries', () => {
  let lake: TestLakehouse;
  beforeEach(async () => {
    lake = await startTestLakehouse(loadDatasets());
  });
  afterEach(() => lake.close());

  const csv = tripsCsv([trip({ trip_id: 'a' }), trip({ trip_id: 'b' })]);

  it.each(['GetObjectCommand', 'PutObjectCommand'])(
    'S3 throttling on %s fails the invocation, quarantines nothing, and the retry succeeds',
    async (command) => {
      const record = await lake.upload('trips/throttled.csv', csv);
      slowDownOnce(lake, command);

      await expect(handleS3Event(eventOf(record), lake.rt)).rejects.toMatchObject({ name: 'SlowDown' });
      expect(await lake.list(BUCKETS.silver, '_quarantine/')).toEqual([]);

      const [retried] = await handleS3Event(eventOf(record), lake.rt);
      expect(retried).toMatchObject({ status: 'ingested', silverRows: 2 });
      expect(await lake.list(BUCKETS.gold, 'trips/daily_zone_revenue/')).toHaveLength(1);
    },
  );

  it('still processes the other records of the event before failing it', async () => {
    const failing = await lake.upload('trips/first.csv', csv);
    const fine = await lake.upload('trips/second.csv', tripsCsv([trip({ trip_id: 'c' })]));
    slowDownOnce(lake, 'GetObjectCommand');

    await expect(handleS3Event(eventOf(failing, fine), lake.rt)).rejects.toMatchObject({ name: 'SlowDown' });

    expect((await lake.list(BUCKETS.silver, 'trips/')).filter((key) => key.startsWith('trips/second-'))).toHaveLength(
      1,
    );
  });

  it('an unreachable S3 endpoint fails the invocation rather than quarantining the file', async () => {
    const record = await lake.upload('trips/unreachable.csv', csv);
    await lake.s3.close();

    await expect(handleS3Event(eventOf(record), lake.rt)).rejects.toThrow();
  });
});
