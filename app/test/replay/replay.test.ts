import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startLocalS3 } from '@lakehouse/local-s3';
import { type EventLogEntry, type LocalLakehouse, startLocalLakehouse } from '../../local/local-lakehouse';
import { type Config, loadConfig } from '../../src/config';
import { type Dataset, loadDatasets } from '../../src/datasets';
import { readAppliedLedger } from '../../src/gold/applied-ledger';
import { loadManifest } from '../../src/gold/gold-state';
import { handleS3Event } from '../../src/handler';
import {
  type DeploymentClients,
  deploymentFromOutputs,
  destroyClients,
  StackOutputsError,
} from '../../src/replay/deployment';
import { findLeftBehind, isWhole } from '../../src/replay/left-behind';
import { creationRecord, listRawObjects, type RawVersion } from '../../src/replay/raw-objects';
import { reconcile } from '../../src/replay/reconcile';
import { redrive } from '../../src/replay/redrive';
import { createRuntime } from '../../src/runtime';
import { eventOf } from '../support/lakehouse';
import { replayDeps } from '../support/replay-deps';
import { objectStamps, rowsUnder, tripsFile, uploadAndWait } from '../support/zones';

const TRANSFORMS = join(__dirname, '..', '..', 'transforms');

describe('replay: reconcile and redrive through the pipeline entry points', () => {
  let home: string;
  const running: LocalLakehouse[] = [];
  const opened: DeploymentClients[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'replay-test-'));
  });

  afterAll(async () => {
    for (const clients of opened) destroyClients(clients);
    for (const lakehouse of running) await lakehouse.stop({ graceMs: 0 });
    await rm(home, { recursive: true, force: true });
  });

  async function start(name: string, datasets?: ReadonlyMap<string, Dataset>): Promise<LocalLakehouse> {
    const lakehouse = await startLocalLakehouse({
      port: 0,
      dataDir: join(home, name, 's3'),
      log: () => {},
      retryDelaysMs: [],
      ...(datasets ? { datasets } : {}),
    });
    running.push(lakehouse);
    return lakehouse;
  }

  /** What the commands use, pointed at the lakehouse (its clients destroyed after the tests). */
  function deployed(lakehouse: LocalLakehouse, datasets?: ReadonlyMap<string, Dataset>) {
    const deps = replayDeps(lakehouse, datasets);
    opened.push(deps.clients);
    return deps;
  }

  it('reconcile finds raw objects with no outcome and silver files gold never applied, replays them once', async () => {
    const first = await start('reconcile');
    const firstClient = first.client();
    const a = await uploadAndWait(first, firstClient, 'trips/a.csv', tripsFile(0, 30));
    await uploadAndWait(first, firstClient, 'trips/zones.csv', 'zone_id,name\n1,Downtown\n');
    await uploadAndWait(first, firstClient, 'weather/stations.csv', 'station,temp\nX,3\n');
    await first.stop();
    // While no lakehouse ran: a.csv's silver output was lost, and c.csv arrived and got as far as silver.
    const c = await toSilverOnly(join(home, 'reconcile', 's3'), 'trips/c.csv', tripsFile(20, 50), (client) =>
      client.send(new DeleteObjectCommand({ Bucket: 'silver', Key: a.silverKey })),
    );

    const lakehouse = await start('reconcile');
    const client = lakehouse.client();
    const deps = deployed(lakehouse);
    const stamps = async () => [
      ...(await objectStamps(client, 'raw')),
      ...(await objectStamps(client, 'silver')),
      ...(await objectStamps(client, 'gold')),
    ];
    const before = await stamps();
    const dry = await reconcile(deps, { dryRun: true });
    expect(await stamps()).toEqual(before);
    expect(dry.found.scanned).toBe(4);
    expect(dry.found.noOutcome.map((raw) => raw.key)).toEqual(['trips/a.csv']);
    expect(dry.found.notInGold.map(({ job }) => job.silverKey)).toEqual([c.silverKey]);
    expect(await reconcile(deps, { dataset: 'weather', dryRun: true })).toMatchObject({
      found: { scanned: 1, noOutcome: [], notInGold: [] },
    });
    expect((await reconcile(deps, { since: new Date(Date.now() + 60_000), dryRun: true })).found.scanned).toBe(0);

    const lines: string[] = [];
    const report = await reconcile(deps, { waitMs: 20_000, pollMs: 100, say: (line) => lines.push(line) });

    expect(report.replayed).toEqual({ events: 1, goldJobs: 1 });
    expect(report.remaining && isWhole(report.remaining)).toBe(true);
    expect(lines).toEqual(
      expect.arrayContaining([
        '  1 with neither a silver output nor a quarantine record',
        `    ${c.silverKey}`,
        'replayed: 1 event(s) to the ingestion function, 1 gold job(s) queued',
      ]),
    );
    const ledger = await readAppliedLedger(
      client,
      { ...lakehouse.cfg, goldBucket: 'gold' },
      await loadManifest(client, 'gold', 'trips'),
    );
    expect(ledger.has(a.silverKey as string)).toBe(true);
    expect(ledger.has(c.silverKey)).toBe(true);

    const settled = await stamps();
    const again = await reconcile(deps, { waitMs: 5_000 });
    expect(isWhole(again.found)).toBe(true);
    expect(again.replayed).toEqual({ events: 0, goldJobs: 0 });
    expect(await stamps()).toEqual(settled);
  });

  it('a file whose silver was lost after gold applied it gets its silver back, and gold keeps the values of the files applied after it', async () => {
    const lakehouse = await start('reconcile-lost-silver');
    const client = lakehouse.client();
    const deps = deployed(lakehouse);
    const a = await uploadAndWait(lakehouse, client, 'trips/a.csv', tripsFile(0, 30));
    // b re-sends trips 20 to 29 with other fares: gold takes b's, the file applied last.
    await uploadAndWait(
      lakehouse,
      client,
      'trips/b.csv',
      tripsFile(20, 40, (n) => ({ fare: n + 100 })),
    );
    const silver = await rowsUnder(client, lakehouse.cfg, 'silver', 'trips/');
    const gold = await rowsUnder(client, lakehouse.cfg, 'gold', 'trips/');
    const goldState = await objectStamps(client, 'gold');
    await client.send(new DeleteObjectCommand({ Bucket: 'silver', Key: a.silverKey }));

    const lines: string[] = [];
    const replayedA = lakehouse.whenProcessed('trips/a.csv');
    const report = await reconcile(deps, { waitMs: 20_000, pollMs: 100, say: (line) => lines.push(line) });

    expect(report.replayed).toEqual({ events: 1, goldJobs: 0 });
    expect(report.remaining && isWhole(report.remaining)).toBe(true);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {4}trips\/a\.csv \(.+\): gold applied it before its silver was lost; silver only$/),
    );
    expect(await replayedA).toMatchObject({ status: 'ingested', silverKey: a.silverKey, alreadyInGold: true });
    expect(await rowsUnder(client, lakehouse.cfg, 'silver', 'trips/')).toEqual(silver);
    expect(await rowsUnder(client, lakehouse.cfg, 'gold', 'trips/')).toEqual(gold);
    // Not a commit of gold's state either: the replay queued no gold job.
    expect(await objectStamps(client, 'gold')).toEqual(goldState);
    expect(isWhole((await reconcile(deps, { dryRun: true })).found)).toBe(true);
  });

  it('a file whose gold job was lost, handed back after a newer file was applied: gold gains its trips, shared trips keep the newer values', async () => {
    const A = tripsFile(0, 30);
    const B = tripsFile(20, 40, (n) => ({ fare: n + 100 }));
    // a.csv got as far as silver, its gold job lost; then b.csv, uploaded after it, went all the way.
    const a = await toSilverOnly(join(home, 'reconcile-late', 's3'), 'trips/a.csv', A);
    // S3 dates objects to the second: b.csv a second later at least.
    await new Promise((done) => setTimeout(done, 1100));
    const lakehouse = await start('reconcile-late');
    const client = lakehouse.client();
    await uploadAndWait(lakehouse, client, 'trips/b.csv', B);

    const report = await reconcile(deployed(lakehouse), { waitMs: 20_000, pollMs: 100 });

    expect(report.found.notInGold.map(({ job }) => job.silverKey)).toEqual([a.silverKey]);
    expect(report.replayed).toEqual({ events: 0, goldJobs: 1 });
    // As if nothing had been lost: a.csv, then b.csv, into a lakehouse of their own.
    const reference = await start('reconcile-late-reference');
    for (const [key, body] of [
      ['trips/a.csv', A],
      ['trips/b.csv', B],
    ] as const) {
      await uploadAndWait(reference, reference.client(), key, body);
    }
    expect(await rowsUnder(client, lakehouse.cfg, 'gold', 'trips/')).toEqual(
      await rowsUnder(reference.client(), reference.cfg, 'gold', 'trips/'),
    );
  });

  it('a file uploaded again, unchanged, whose gold job or event was lost: reconcile processes it again, and gold takes it as uploaded last', async () => {
    const A = tripsFile(0, 30);
    const B = tripsFile(20, 40, (n) => ({ fare: n + 100 }));
    const dir = join(home, 'reconcile-again', 's3');
    const aSecondLater = () => new Promise((done) => setTimeout(done, 1100));
    const first = await start('reconcile-again');
    await uploadAndWait(first, first.client(), 'trips/a.csv', A);
    await aSecondLater();
    await uploadAndWait(first, first.client(), 'trips/b.csv', B);
    await first.stop();
    /** Gold as if every upload so far had gone through, in order, into a lakehouse of its own. */
    const reference = async (name: string, files: Array<[string, string]>) => {
      const lakehouse = await start(name);
      for (const [key, body] of files) await uploadAndWait(lakehouse, lakehouse.client(), key, body);
      return rowsUnder(lakehouse.client(), lakehouse.cfg, 'gold', 'trips/');
    };

    // a.csv uploaded again, the same bytes: silver written again, its gold job lost.
    await aSecondLater();
    await toSilverOnly(dir, 'trips/a.csv', A);
    const second = await start('reconcile-again');
    const dry = await reconcile(deployed(second), { dryRun: true });
    expect(dry.found.uploadedAgain.map((raw) => raw.key)).toEqual(['trips/a.csv']);
    expect(isWhole(dry.found)).toBe(false);
    const report = await reconcile(deployed(second), { waitMs: 20_000, pollMs: 100 });
    expect(report.replayed).toEqual({ events: 1, goldJobs: 0 });
    expect(report.remaining && isWhole(report.remaining)).toBe(true);
    const ab = [
      ['trips/a.csv', A],
      ['trips/b.csv', B],
    ] as Array<[string, string]>;
    expect(await rowsUnder(second.client(), second.cfg, 'gold', 'trips/')).toEqual(
      await reference('reconcile-again-aba', [...ab, ['trips/a.csv', A]]),
    );
    await second.stop();

    // b.csv uploaded again, the same bytes, while no lakehouse ran: its event lost.
    await aSecondLater();
    await withPlainS3(dir, (client) =>
      client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'trips/b.csv', Body: B })),
    );
    const third = await start('reconcile-again');
    const again = await reconcile(deployed(third), { waitMs: 20_000, pollMs: 100 });
    expect(again.found.uploadedAgain.map((raw) => raw.key)).toEqual(['trips/b.csv']);
    expect(again.remaining && isWhole(again.remaining)).toBe(true);
    expect(await rowsUnder(third.client(), third.cfg, 'gold', 'trips/')).toEqual(
      await reference('reconcile-again-abab', [...ab, ...ab]),
    );
    expect(isWhole((await reconcile(deployed(third), { dryRun: true })).found)).toBe(true);
  });

  it('redrive re-runs failed events and dead-lettered gold jobs, and says what still fails and why', async () => {
    // A bug in a gold table's SQL fails the event (gold runs in it locally) and the gold jobs sent to the queue.
    cpSync(join(TRANSFORMS, 'trips'), join(home, 'transforms', 'trips'), { recursive: true });
    const goldSql = join(home, 'transforms', 'trips', 'gold', 'daily_zone_revenue.sql');
    const fixed = readFileSync(goldSql, 'utf8');
    writeFileSync(goldSql, fixed.replace('sum(passengers)', 'sum(no_such_column)'));
    const broken = loadDatasets(join(home, 'transforms'));
    const first = await start('redrive', broken);
    const failed = await uploadAndWait(first, first.client(), 'trips/a.csv', tripsFile(0, 30));
    expect(failed.status).toBe('failed');
    expect(await first.failedEvents.names()).toHaveLength(1);

    const stillBroken = await redrive(deployed(first, broken), { waitMs: 20_000, pollMs: 100 });
    expect(stillBroken.events).toEqual(['trips/a.csv']);
    expect(stillBroken.stillFailing).toEqual([
      { key: 'trips/a.csv', reason: expect.stringMatching(/^RetriesExhausted after 1 attempt\(s\): .*no_such_column/) },
    ]);
    expect(await first.failedEvents.names()).toHaveLength(1);
    // Its silver landed before gold failed: reconcile queues its gold job, which fails into the dead-letter queue.
    await reconcile(deployed(first, broken));
    await until(async () => (await first.goldDeadLetter.names()).length === 1);
    const goldStillBroken = await redrive(deployed(first, broken), { waitMs: 20_000, pollMs: 100 });
    expect(goldStillBroken.stillFailing).toEqual(
      expect.arrayContaining([
        { key: expect.stringMatching(/^trips\/a-\w+\.parquet$/), reason: expect.stringContaining('gold step') },
      ]),
    );
    await first.stop();

    writeFileSync(goldSql, fixed);
    const datasets = loadDatasets(join(home, 'transforms'));
    const second = await start('redrive', datasets);
    const lines: string[] = [];
    const report = await redrive(deployed(second, datasets), {
      waitMs: 20_000,
      pollMs: 100,
      say: (l) => lines.push(l),
    });

    expect(report).toMatchObject({ events: ['trips/a.csv'], stillFailing: [], pending: [], unreadable: [] });
    expect(report.goldJobs).toEqual([expect.stringMatching(/^trips\/a-\w+\.parquet$/)]);
    expect(lines).toContain('done: everything redriven has its outcome');
    expect(await second.failedEvents.names()).toEqual([]);
    expect(await second.goldDeadLetter.names()).toEqual([]);
    const deps = deployed(second, datasets);
    expect(isWhole(await findLeftBehind(deps))).toBe(true);
    expect(await redrive(deps)).toMatchObject({ events: [], goldJobs: [] });
  });

  it('a failed event of an object overwritten since is dropped, not replayed over the newer version', async () => {
    const lakehouse = await start('superseded');
    const client = lakehouse.client();
    const old = (await listRawObjectsAfter(lakehouse, 'trips/a.csv', tripsFile(0, 5)))[0];
    await lakehouse.failedEvents.add(
      JSON.stringify({
        requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
        requestPayload: {
          Records: [creationRecord('raw', { ...(old as NonNullable<typeof old>), eTag: 'an-older-etag' })],
        },
        responsePayload: { errorMessage: 'throttled' },
      }),
    );
    await lakehouse.failedEvents.add('not an on-failure record');

    const report = await redrive(deployed(lakehouse));
    expect(report).toMatchObject({ events: [], superseded: ['trips/a.csv'] });
    expect(report.unreadable).toHaveLength(1);
    // The unreadable message stays for a person to look at; the superseded one is gone.
    expect(await lakehouse.failedEvents.names()).toHaveLength(1);
    client.destroy();
  });

  it('the local Invoke API takes asynchronous invocations of the ingestion function only', async () => {
    const lakehouse = await start('invoke');
    const { lambda } = deployed(lakehouse).clients;
    const payload = Buffer.from(JSON.stringify({ Records: [] }));

    await expect(
      lambda.send(new InvokeCommand({ FunctionName: 'other', InvocationType: 'Event', Payload: payload })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      lambda.send(
        new InvokeCommand({ FunctionName: 'ingestion', InvocationType: 'RequestResponse', Payload: payload }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    expect(
      (await lambda.send(new InvokeCommand({ FunctionName: 'ingestion', InvocationType: 'Event', Payload: payload })))
        .StatusCode,
    ).toBe(202);
  });

  it('--aws takes its names from the stack outputs, as terraform or cdktf writes them', () => {
    const outputs = {
      raw_bucket: 'raw-1',
      silver_bucket: 'silver-1',
      gold_bucket: 'gold-1',
      function_name: 'duckdb_ingestion',
      gold_queue_url: 'https://sqs/gold.fifo',
      gold_dead_letter_queue_url: 'https://sqs/gold-dlq.fifo',
      failed_events_queue_url: 'https://sqs/failed',
    };
    const expected = {
      buckets: { raw: 'raw-1', silver: 'silver-1', gold: 'gold-1' },
      functionName: 'duckdb_ingestion',
      goldQueueUrl: 'https://sqs/gold.fifo',
      goldDeadLetterQueueUrl: 'https://sqs/gold-dlq.fifo',
      failedEventsQueueUrl: 'https://sqs/failed',
    };
    const terraform = Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, { value }]));

    expect(deploymentFromOutputs(terraform)).toEqual(expected);
    expect(deploymentFromOutputs({ lakehouse: outputs })).toEqual(expected);
    expect(() => deploymentFromOutputs({ lakehouse: { ...outputs, function_name: undefined } })).toThrow(
      new StackOutputsError("the stack's outputs have no function_name"),
    );
  });

  async function listRawObjectsAfter(lakehouse: LocalLakehouse, key: string, body: string) {
    const client = lakehouse.client();
    const entry: EventLogEntry = await uploadAndWait(lakehouse, client, key, body);
    expect(entry.status).toBe('ingested');
    return listRawObjects(client, 'raw');
  }
});

/** With no lakehouse running, `key` uploaded to raw and taken as far as silver: its gold job is lost. */
async function toSilverOnly(
  directory: string,
  key: string,
  body: string,
  before?: (client: S3Client) => Promise<unknown>,
) {
  const outcome = await withPlainS3(directory, async (client, cfg) => {
    await before?.(client);
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: body }));
    const raw = (await listRawObjects(client, 'raw')).find((object) => object.key === key);
    const silverOnly = { ...createRuntime(cfg), gold: { submit: async () => {} } };
    const [outcome] = await handleS3Event(eventOf(creationRecord('raw', raw as RawVersion)), silverOnly);
    silverOnly.s3.destroy();
    return outcome;
  });
  if (outcome?.status !== 'ingested') throw new Error(`${key} was not ingested`);
  return outcome;
}

/** An S3 server on a lakehouse's folder with no lakehouse: what happens there runs no handler. */
async function withPlainS3<T>(directory: string, work: (client: S3Client, cfg: Config) => Promise<T>): Promise<T> {
  const s3 = await startLocalS3({ buckets: ['raw', 'silver', 'gold'], directory });
  const workDir = await mkdtemp(join(tmpdir(), 'plain-s3-work-'));
  // The runtime's client takes its credentials from the environment, as on AWS; the local server accepts any.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  try {
    const cfg = loadConfig({
      SILVER_BUCKET: 'silver',
      GOLD_BUCKET: 'gold',
      S3_ENDPOINT: s3.endpoint,
      WORK_DIR: workDir,
    });
    return await work(s3.client(), cfg);
  } finally {
    await s3.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((done) => setTimeout(done, 100));
  }
}
