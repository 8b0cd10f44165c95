import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, DeleteBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { goldPartitionKey } from '@lakehouse/contract';
import { listKeys, readContents } from '../../local/lakehouse-contents';
import {
  BUCKETS,
  type EventLogEntry,
  isPortFree,
  type LocalLakehouse,
  startLocalLakehouse,
} from '../../local/local-lakehouse';
import { writeTrips } from '../../local/trip-generator';
import { WorkQueue } from '../../local/work-queue';

const SAMPLE_CSV = join(__dirname, '..', '..', 'samples', 'trips', '2026-01-15.csv');
const MULTIPART_ROWS = 100_000;
const PART_SIZE = 5 * 1024 * 1024;
// Uploads of a few MB and their processing take seconds; the default of 5 s is too tight on 2 cores.

describe('local lakehouse', () => {
  let home: string;
  let lakehouse: LocalLakehouse;
  let client: S3Client;
  const log: EventLogEntry[] = [];
  /** A generated trips CSV larger than one part, shared by the multipart tests. */
  let bigCsv: string;

  const start = (dataDir = join(home, 's3')) =>
    startLocalLakehouse({ port: 0, dataDir, log: (entry) => log.push(entry), retryDelaysMs: [] });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'local-lakehouse-test-'));
    bigCsv = join(home, 'big.csv');
    await writeTrips(bigCsv, { rows: MULTIPART_ROWS, seed: 7, startDate: '2026-02-01', days: 7 });
    lakehouse = await start();
    client = lakehouse.client();
  });
  afterAll(async () => {
    await lakehouse?.stop();
    await rm(home, { recursive: true, force: true });
  });

  async function put(key: string, body: Buffer | string): Promise<EventLogEntry> {
    const processed = lakehouse.whenProcessed(key);
    await client.send(new PutObjectCommand({ Bucket: BUCKETS.raw, Key: key, Body: body }));
    return processed;
  }

  async function multipartUpload(key: string, path: string): Promise<void> {
    await new Upload({
      client,
      params: { Bucket: BUCKETS.raw, Key: key, Body: createReadStream(path) },
      partSize: PART_SIZE,
      queueSize: 2,
    }).done();
  }

  describe('an upload to raw', () => {
    it('runs the handler: a single-part upload lands in silver, rejects and gold', async () => {
      const entry = await put('trips/2026/01/15.csv', await readFile(SAMPLE_CSV));

      expect(entry).toMatchObject({
        status: 'ingested',
        eventName: 'ObjectCreated:Put',
        key: 'trips/2026/01/15.csv',
        silverRows: 38,
        rejectedRows: 6,
        attempts: 1,
      });
      expect(entry.goldMs).toBeGreaterThan(0);
      // Where its time went, step by step; here the gold step is the update itself.
      expect(Object.keys(entry.stepsMs ?? {})).toEqual(['download', 'stage', 'publish', 'upload', 'gold']);
      expect(entry.stepsMs?.gold).toBeGreaterThanOrEqual((entry.goldMs as number) - 1);
      // The sample's two trips after midnight rebuild the next day's partition too.
      expect(entry.goldPartitions).toEqual(['2026-01-15', '2026-01-16']);
      expect(entry.eTag).toMatch(/^[0-9a-f]{32}$/);
      const contents = await readContents(client, lakehouse.cfg);
      expect(contents.silver).toContainEqual({ key: entry.silverKey, rows: 38 });
      expect(contents.rejects).toContainEqual(expect.objectContaining({ key: entry.rejectsKey, rows: 6 }));
      const gold = contents.gold.map((object) => object.key);
      expect(gold).toEqual(
        expect.arrayContaining([
          goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-01-15'),
          goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-01-16'),
        ]),
      );
    });

    it('runs the handler on a multipart upload once it completes', async () => {
      const processed = lakehouse.whenProcessed('trips/multipart/big.csv');
      await multipartUpload('trips/multipart/big.csv', bigCsv);
      const entry = await processed;

      expect(entry).toMatchObject({ status: 'ingested', eventName: 'ObjectCreated:CompleteMultipartUpload' });
      expect(entry.size).toBeGreaterThan(PART_SIZE);
      expect((entry.silverRows ?? 0) + (entry.rejectedRows ?? 0)).toBe(MULTIPART_ROWS);
      const contents = await readContents(client, lakehouse.cfg);
      expect(contents.silver).toContainEqual({ key: entry.silverKey, rows: entry.silverRows });
      const february = await listKeys(client, BUCKETS.gold, 'trips/daily_zone_revenue/pickup_date=2026-02');
      expect(february).toHaveLength(7);
    });
  });

  describe('a bad file', () => {
    it('is logged as quarantined, and the next upload is still processed', async () => {
      const truncated = gzipSync(await readFile(SAMPLE_CSV)).subarray(0, 400);

      const bad = await put('trips/broken.csv.gz', truncated);
      const next = await put('trips/after-broken.csv', await readFile(SAMPLE_CSV));

      expect(bad).toMatchObject({ level: 'warn', status: 'quarantined', reason: 'unreadable' });
      expect(log).toContainEqual(expect.objectContaining({ key: 'trips/broken.csv.gz', status: 'quarantined' }));
      expect(next).toMatchObject({ status: 'ingested', silverRows: 38 });
      const quarantined = (await readContents(client, lakehouse.cfg)).quarantined;
      expect(quarantined).toContainEqual(
        expect.objectContaining({ source: 'trips/broken.csv.gz', reason: 'unreadable' }),
      );
    });

    it('that fails (silver is unreachable) is logged as failed, and the server keeps serving', async () => {
      const own = await startLocalLakehouse({
        port: 0,
        dataDir: join(home, 'failing', 's3'),
        log: (entry) => log.push(entry),
        retryDelaysMs: [],
      });
      const ownClient = own.client();
      try {
        await ownClient.send(new DeleteBucketCommand({ Bucket: BUCKETS.silver }));
        const failing = own.whenProcessed('trips/a.csv');
        await ownClient.send(
          new PutObjectCommand({ Bucket: BUCKETS.raw, Key: 'trips/a.csv', Body: await readFile(SAMPLE_CSV) }),
        );
        expect(await failing).toMatchObject({ level: 'error', status: 'failed', attempts: 1 });

        await ownClient.send(new CreateBucketCommand({ Bucket: BUCKETS.silver }));
        const next = own.whenProcessed('trips/b.csv');
        await ownClient.send(
          new PutObjectCommand({ Bucket: BUCKETS.raw, Key: 'trips/b.csv', Body: await readFile(SAMPLE_CSV) }),
        );
        expect(await next).toMatchObject({ status: 'ingested', silverRows: 38 });
      } finally {
        await own.stop();
      }
    });
  });

  it('notes each event as it starts and where a long one is, and keeps the log to one entry per event', async () => {
    const notes: string[] = [];
    const entries: EventLogEntry[] = [];
    const watched = await startLocalLakehouse({
      port: 0,
      dataDir: join(home, 'watched'),
      log: (entry) => entries.push(entry),
      notes: (text) => notes.push(text),
      progressEveryMs: 20,
    });
    try {
      const processed = watched.whenProcessed('trips/watched/big.csv');
      await new Upload({
        client: watched.client(),
        params: { Bucket: BUCKETS.raw, Key: 'trips/watched/big.csv', Body: createReadStream(bigCsv) },
      }).done();
      await processed;
    } finally {
      await watched.stop();
    }

    expect(notes[0]).toMatch(/^→ trips\/watched\/big\.csv \([\d.]+ MB\) started$/);
    const progress = notes.filter((note) => note.startsWith('… trips/watched/big.csv: '));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.join('\n')).toMatch(/(downloading|staging|writing silver|uploading|gold)/);
    expect(entries.map((entry) => [entry.key, entry.status])).toEqual([['trips/watched/big.csv', 'ingested']]);
  });

  it('acts as a Lambda function of --memory-mb: DuckDB gets its share of the memory', async () => {
    const sized = await startLocalLakehouse({
      port: 0,
      dataDir: join(home, 'sized'),
      lambdaMemoryMb: 3008,
      log: () => {},
    });
    try {
      expect(sized.cfg.duckdb.memoryLimitMb).toBe(1504);
      expect(lakehouse.cfg.duckdb.memoryLimitMb).toBe(2048);
    } finally {
      await sized.stop();
    }
  });

  describe('stopping', () => {
    it('abandons an in-flight event without partial outputs, and keeps the data for the next start', async () => {
      const before = await listKeys(client, BUCKETS.silver);
      const abandoned = lakehouse.whenProcessed('trips/abandoned/big.csv');
      await multipartUpload('trips/abandoned/big.csv', bigCsv);
      while (lakehouse.stats().running === 0) await new Promise((done) => setTimeout(done, 5));
      const port = lakehouse.port;

      await lakehouse.abandon();

      expect(await abandoned).toMatchObject({ status: 'abandoned', key: 'trips/abandoned/big.csv' });
      expect(await isPortFree(port)).toBe(true);
      lakehouse = await start();
      client = lakehouse.client();
      expect(await listKeys(client, BUCKETS.silver)).toEqual(before);
      expect(await listKeys(client, BUCKETS.raw, 'trips/abandoned/')).toEqual(['trips/abandoned/big.csv']);
    });

    it('finishes in-flight events, then releases its port', async () => {
      const processed = lakehouse.whenProcessed('trips/last.csv');
      await client.send(
        new PutObjectCommand({ Bucket: BUCKETS.raw, Key: 'trips/last.csv', Body: await readFile(SAMPLE_CSV) }),
      );
      while (lakehouse.stats().running === 0 && lakehouse.stats().ingested === 0) {
        await new Promise((done) => setTimeout(done, 5));
      }
      const port = lakehouse.port;

      await lakehouse.stop();

      expect(await processed).toMatchObject({ status: 'ingested' });
      expect(await isPortFree(port)).toBe(true);
    });
  });
});

describe('WorkQueue', () => {
  it('runs at most `concurrency` jobs at once, all of them, and reports idle', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const queue = new WorkQueue<number>(3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5 + (n % 4)));
      running--;
      done.push(n);
      if (n === 4) throw new Error('a failing job does not stop the queue');
    });

    for (let n = 0; n < 12; n++) queue.push(n);
    await queue.idle();

    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('drops the jobs that have not started', async () => {
    const started: number[] = [];
    const queue = new WorkQueue<number>(1, async (n) => {
      started.push(n);
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    for (let n = 0; n < 4; n++) queue.push(n);

    expect(queue.drop()).toEqual([1, 2, 3]);
    await queue.idle();
    expect(started).toEqual([0]);
  });
});
