import { gzipSync } from 'node:zlib';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  CHUNK_RETRIES,
  CHUNK_STEP,
  chunkStateMachineDefinition,
  SOURCE_LAST_MODIFIED_METADATA,
  silverKey,
} from '@lakehouse/contract';
import { type ChunkStepInput, handleChunkStep } from '../../src/chunk-handler';
import { type ChunkExecutionInput, StateMachineChunkExecutions } from '../../src/chunks/chunk-executions';
import type { ChunkOptions } from '../../src/chunks/ingest-in-chunks';
import { MAX_CONTEXT_BYTES } from '../../src/chunks/phases/plan';
import { loadConfig } from '../../src/config';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { createRuntime, type Runtime } from '../../src/runtime';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { failingStagedPart, publishedFile } from '../support/published';
import { runStateMachine } from '../support/state-machine';
import { type StepFunctionsServer, startStepFunctionsServer } from '../support/step-functions-server';
import { type TripRow, trip, tripsCsv, tripsToSplit } from '../support/trips';

const FUNCTION_ARN = `arn:aws:lambda:us-east-1:123456789012:function:duckdb_ingestion_chunks`;
const MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:duckdb_ingestion-chunks';

describe('files in chunks on AWS: the chunk state machine runs the same steps', () => {
  let single: TestLakehouse;
  let aws: TestLakehouse;
  let proxy: FaultProxy;
  /** Step Functions on loopback: the ingestion function starts executions there through the SDK. */
  let sfn: StepFunctionsServer;
  /** The ingestion function: it plans, and hands the plan to the state machine. */
  let ingestRt: Runtime;
  /** The chunk function, on the same image and buckets. */
  let chunkRt: Runtime;
  const chunkBytes = 600;
  const definition = chunkStateMachineDefinition({ chunkFunctionArn: FUNCTION_ARN, maxConcurrency: 2 });

  beforeAll(async () => {
    [single, aws, sfn] = await Promise.all([startTestLakehouse(), startTestLakehouse(), startStepFunctionsServer()]);
    proxy = await startFaultProxy(aws.s3.endpoint);
    chunkRt = createRuntime(loadConfig({ ...aws.env, S3_ENDPOINT: proxy.endpoint }));
    ingestRt = {
      ...createRuntime(loadConfig(aws.env)),
      chunks: { chunkBytes, executions: new StateMachineChunkExecutions(sfn.client, MACHINE_ARN) },
    };
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([single.close(), aws.close(), sfn.stop()]);
  });
  afterEach(() => proxy.clear());

  /** The S3 event to the ingestion function, then the execution it started, as Step Functions runs it. */
  async function ingestOnAws(key: string, body: string) {
    const record = await aws.upload(key, body);
    const [planned] = await handleS3Event(eventOf(record), ingestRt);
    const execution = sfn.executions.at(-1);
    if (!execution) throw new Error('no execution started');
    const input = JSON.parse(execution.input) as ChunkExecutionInput;
    const run = await runStateMachine(definition, input, {
      s3: aws.s3.client(),
      invoke: (payload) => handleChunkStep(payload as ChunkStepInput, chunkRt),
    });
    sfn.close(execution.arn, 'SUCCEEDED');
    return { record, planned, input, run, outcome: run.output as IngestOutcome, execution };
  }

  async function ingestWhole(key: string, body: string): Promise<IngestOutcome> {
    const [outcome] = await handleS3Event(eventOf(await single.upload(key, body)), single.rt);
    if (!outcome) throw new Error('no outcome');
    return outcome;
  }

  it('plans, runs every item through the chunk function, commits: exactly the single-invocation result', async () => {
    const body = tripsToSplit();

    const { planned, input, run, outcome } = await ingestOnAws('trips/jan.csv', body);

    expect(planned).toMatchObject({
      status: 'planned',
      dataset: 'trips',
      execution: expect.stringContaining(':execution:'),
    });
    const chunks = (planned as { chunks: number }).chunks;
    expect(chunks).toBeGreaterThanOrEqual(Math.floor(Buffer.byteLength(body) / chunkBytes) - 1);
    expect(input.plan).toEqual({
      bucket: BUCKETS.silver,
      key: expect.stringMatching(/^_chunks\/trips\/.+\/plan\.json$/),
    });
    expect(Buffer.byteLength(JSON.stringify(input))).toBeLessThan(MAX_CONTEXT_BYTES);
    // One invocation per item, then one commit, all of the chunk function.
    const steps = run.invocations.map(({ payload }) => payload.step);
    expect(steps).toEqual([...Array(chunks).fill(CHUNK_STEP.chunk), CHUNK_STEP.commit]);
    expect(new Set(run.invocations.map(({ functionName }) => functionName))).toEqual(new Set([FUNCTION_ARN]));
    expect(outcome).toMatchObject({ status: 'ingested', chunks });
    expect(await publishedFile(aws, outcome)).toEqual(
      await publishedFile(single, await ingestWhole('trips/jan.csv', body)),
    );
    expect(await aws.list(BUCKETS.silver, '_chunks/')).toEqual([]);
    // The execution's input carries the raw object's upload time to the commit, which dates the silver object with it.
    const client = aws.s3.client();
    const raw = await client.send(new HeadObjectCommand({ Bucket: BUCKETS.raw, Key: 'trips/jan.csv' }));
    const silver = await client.send(
      new HeadObjectCommand({ Bucket: BUCKETS.silver, Key: (outcome as { silverKey: string }).silverKey }),
    );
    expect(input.context.object.lastModified).toBe(raw.LastModified?.toISOString());
    expect(silver.Metadata?.[SOURCE_LAST_MODIFIED_METADATA]).toBe(String((raw.LastModified?.getTime() ?? 0) / 1000));
  });

  describe('a failing chunk', () => {
    const body = tripsToSplit();
    const partOfChunk2 = (key: string, eTag: string) => failingStagedPart(key, eTag, 2);

    it('is retried by the state machine, and the file comes out the same', async () => {
      const eTag = (await aws.upload('trips/retried.csv', body)).s3.object.eTag;
      // More failures than the SDK's own attempts: the chunk's first invocation fails as a whole.
      proxy.inject({ ...partOfChunk2('trips/retried.csv', eTag), times: 3 });

      const { run, outcome } = await ingestOnAws('trips/retried.csv', body);

      expect(proxy.faulted).toBe(3);
      const chunk2 = run.invocations.filter(
        ({ payload }) => payload.step === CHUNK_STEP.chunk && payload.item.index === 2,
      );
      expect(chunk2).toHaveLength(2);
      const whole = await ingestWhole('trips/retried.csv', body);
      expect(await publishedFile(aws, outcome)).toEqual(await publishedFile(single, whole));
    });

    it('fails the map when it fails for good: the fail step quarantines the file naming the chunk, no part left', async () => {
      const eTag = (await aws.upload('trips/broken.csv', body)).s3.object.eTag;
      proxy.inject({ ...partOfChunk2('trips/broken.csv', eTag), times: 1000 });

      const { run, outcome } = await ingestOnAws('trips/broken.csv', body);

      expect(
        run.invocations.filter(({ payload }) => payload.step === CHUNK_STEP.chunk && payload.item.index === 2),
      ).toHaveLength(CHUNK_RETRIES + 1);
      expect(run.invocations.map(({ payload }) => payload.step)).toEqual(
        expect.arrayContaining([CHUNK_STEP.recordFailure, CHUNK_STEP.fail]),
      );
      expect(run.invocations.map(({ payload }) => payload.step)).not.toContain(CHUNK_STEP.commit);
      expect(outcome).toMatchObject({
        status: 'quarantined',
        reason: 'chunk-failed',
        error: expect.stringMatching(
          new RegExp(
            `^chunk 2 of \\d+ \\(bytes \\d+-\\d+\\) failed after ${CHUNK_RETRIES + 1} attempts: InternalError: injected; no part of the file was published$`,
          ),
        ),
      });
      const record = JSON.parse(
        await aws.getText(BUCKETS.silver, (outcome as { quarantineKey: string }).quarantineKey),
      );
      expect(record).toMatchObject({
        key: 'trips/broken.csv',
        reason: 'chunk-failed',
        error: expect.stringMatching(/^chunk 2 of/),
      });
      expect(await aws.list(BUCKETS.silver, '_chunks/')).toEqual([]);
      expect(await aws.list(BUCKETS.silver)).not.toContain(silverKey('trips/broken.csv', eTag));
    });

    it('is not retried when it is not whole records: the fail step reads the file whole, saying why', async () => {
      // A quoted line break far from every split point, where the plan's windows do not look: the chunk finds it.
      const rows = Array.from({ length: 10_000 }, (_, i) => trip({ trip_id: `w${String(i).padStart(5, '0')}` }));
      const rowBytes = Buffer.byteLength(tripsCsv(rows.slice(0, 2))) - Buffer.byteLength(tripsCsv(rows.slice(0, 1)));
      const target = Math.floor(300_000 / rowBytes);
      rows[target] = { ...(rows[target] as TripRow), pickup_zone: 'Two\nlines' };
      const body = tripsCsv(rows);
      ingestRt.chunks = { ...(ingestRt.chunks as ChunkOptions), chunkBytes: 200_000 };

      const { run, outcome } = await ingestOnAws('trips/quoted.csv', body).finally(() => {
        ingestRt.chunks = { ...(ingestRt.chunks as ChunkOptions), chunkBytes };
      });

      const steps = run.invocations.map(({ payload }) => payload.step);
      const chunk1 = run.invocations.filter(
        ({ payload }) => payload.step === CHUNK_STEP.chunk && payload.item.index === 1,
      );
      expect(chunk1).toHaveLength(1);
      expect(steps).toEqual(expect.arrayContaining([CHUNK_STEP.recordFailure, CHUNK_STEP.fail]));
      expect(steps).not.toContain(CHUNK_STEP.commit);
      expect(outcome).toMatchObject({
        status: 'ingested',
        silverRows: rows.length,
        notSplit: expect.stringMatching(
          /^chunk 1 \(bytes \d+-\d+\) is not whole records: a quoted field holds a line break/,
        ),
      });
      expect(outcome).not.toHaveProperty('chunks');
      expect(await aws.list(BUCKETS.silver, '_chunks/')).toEqual([]);
    });
  });

  it('quarantines a file it cannot split and cannot process whole as too-large, saying why and what to do', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => trip({ trip_id: `z${String(i).padStart(4, '0')}` }));
    const body = gzipSync(tripsCsv(rows));
    const rt = { ...createRuntime(loadConfig({ ...aws.env, MAX_OBJECT_BYTES: '1000' })), chunks: ingestRt.chunks };
    expect(body.length).toBeGreaterThan(1000);

    const [outcome] = await handleS3Event(eventOf(await aws.upload('trips/big.csv.gz', body)), rt);

    expect(outcome).toMatchObject({
      status: 'quarantined',
      reason: 'too-large',
      error: expect.stringMatching(
        /over the limit of 1000, and it cannot be processed in chunks \(gzip-compressed.*\): upload it as smaller files, or uncompressed$/,
      ),
      notSplit: expect.stringMatching(/^gzip-compressed/),
    });
  });

  it('starts one execution per file version through StartExecution, named by the id its outputs carry', async () => {
    const { planned, execution, input } = await ingestOnAws('trips/named.csv', tripsToSplit());

    expect(execution.arn).toBe(`${MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${execution.name}`);
    expect(planned).toMatchObject({ status: 'planned', execution: execution.arn });
    expect(execution.name).toMatch(/^[0-9a-f]{24}$/);
    expect(silverKey('trips/named.csv', input.context.version)).toContain(`-${execution.name}.parquet`);
  });

  it('does not start a second execution for a version whose execution still runs (a duplicate event)', async () => {
    const record = await aws.upload('trips/twice.csv', tripsToSplit());
    // Other files' executions run too: the listing pages past them (two a page here).
    const others = [1, 2, 3].map((n) => ({
      arn: `${MACHINE_ARN.replace(':stateMachine:', ':execution:')}:other-${n}`,
      name: `other-${n}`,
      input: '{}',
      status: 'RUNNING' as const,
    }));
    sfn.executions.push(...others);
    const before = sfn.executions.length;

    const [first] = await handleS3Event(eventOf(record), ingestRt);
    const [second] = await handleS3Event(eventOf(record), ingestRt);

    expect(sfn.executions).toHaveLength(before + 1);
    const running = sfn.executions.at(-1);
    expect(first).toMatchObject({ status: 'planned', execution: running?.arn });
    expect(second).toEqual({ status: 'skipped', reason: `already being processed in chunks by ${running?.arn}` });
    for (const execution of [...others, running]) sfn.close(execution?.arn as string, 'FAILED');
  });

  it('starts a new execution when the version is replayed after its execution closed, and only one while it runs', async () => {
    const body = tripsToSplit();
    const { record, execution: first } = await ingestOnAws('trips/replayed.csv', body);

    const [replayed] = await handleS3Event(eventOf(record), ingestRt);
    const [again] = await handleS3Event(eventOf(record), ingestRt);

    const second = sfn.executions.at(-1);
    expect(second?.name).toMatch(new RegExp(`^${first.name}-[0-9a-z]+$`));
    expect(replayed).toMatchObject({ status: 'planned', execution: second?.arn });
    expect(again).toEqual({ status: 'skipped', reason: `already being processed in chunks by ${second?.arn}` });
    expect(sfn.executions.filter((execution) => execution.name.startsWith(first.name))).toHaveLength(2);
    sfn.close(second?.arn as string, 'SUCCEEDED');
  });
});
