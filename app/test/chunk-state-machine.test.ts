import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CHUNK_RETRIES, CHUNK_STEP, chunkPartKey, chunkStateMachineDefinition, silverKey } from '@lakehouse/contract';
import { type ChunkStepInput, handleChunkStep } from '../src/chunk-handler';
import {
  type ChunkExecutionInput,
  executionInput,
  executionName,
  StateMachineChunkExecutions,
} from '../src/chunks/chunk-executions';
import type { ChunkOptions } from '../src/chunks/ingest-in-chunks';
import { MAX_CONTEXT_BYTES } from '../src/chunks/phases/plan';
import { loadConfig } from '../src/config';
import { handleS3Event } from '../src/handler';
import type { IngestOutcome } from '../src/ingest/ingest-object';
import { createRuntime, type Runtime } from '../src/runtime';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from './support/lakehouse';
import { publishedFile } from './support/published';
import { runStateMachine } from './support/state-machine';
import { type TripRow, trip, tripsCsv, tripsToSplit } from './support/trips';

const FUNCTION_ARN = `arn:aws:lambda:us-east-1:123456789012:function:duckdb_ingestion_chunks`;

describe('files in chunks on AWS: the chunk state machine runs the same steps', () => {
  let single: TestLakehouse;
  let aws: TestLakehouse;
  let proxy: FaultProxy;
  /** The ingestion function: it plans, and hands the plan to the state machine (here: records the input). */
  let ingestRt: Runtime;
  /** The chunk function, on the same image and buckets. */
  let chunkRt: Runtime;
  const started: ChunkExecutionInput[] = [];
  const chunkBytes = 600;
  const definition = chunkStateMachineDefinition({ chunkFunctionArn: FUNCTION_ARN, maxConcurrency: 2 });

  beforeAll(async () => {
    [single, aws] = await Promise.all([startTestLakehouse(), startTestLakehouse()]);
    proxy = await startFaultProxy(aws.s3.endpoint);
    chunkRt = createRuntime(loadConfig({ ...aws.env, S3_ENDPOINT: proxy.endpoint }));
    ingestRt = {
      ...createRuntime(loadConfig(aws.env)),
      chunks: {
        chunkBytes,
        executions: {
          async start(planned) {
            // What StartExecution sends: the input as JSON.
            started.push(JSON.parse(JSON.stringify(executionInput(planned))));
            return `arn:aws:states:us-east-1:123456789012:execution:chunks:${executionName(planned.context, new Date())}`;
          },
        },
      },
    };
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([single.close(), aws.close()]);
  });
  afterEach(() => proxy.clear());

  /** The S3 event to the ingestion function, then the execution it started, as Step Functions runs it. */
  async function ingestOnAws(key: string, body: string) {
    const record = await aws.upload(key, body);
    const [planned] = await handleS3Event(eventOf(record), ingestRt);
    const input = started.at(-1) as ChunkExecutionInput;
    const run = await runStateMachine(definition, input, {
      s3: aws.s3.client(),
      invoke: (payload) => handleChunkStep(payload as ChunkStepInput, chunkRt),
    });
    return { record, planned, input, run, outcome: run.output as IngestOutcome };
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
  });

  describe('a failing chunk', () => {
    const body = tripsToSplit();
    const partOfChunk2 = (key: string, eTag: string) => ({
      method: 'PUT' as const,
      bucket: BUCKETS.silver,
      key: chunkPartKey(key, eTag, 2, 'silver'),
      fault: { status: 500, code: 'InternalError' },
    });

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

  it('starts the execution with StartExecution: the plan and context as input, a name traced to the file', async () => {
    const planned = started[0] as ChunkExecutionInput;
    const requests: Array<{ target: unknown; body: Record<string, string> }> = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (piece) => {
        body += piece;
      });
      request.on('end', () => {
        requests.push({ target: request.headers['x-amz-target'], body: JSON.parse(body) });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          JSON.stringify({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:e', startDate: 0 }),
        );
      });
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const sfn = new SFNClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const machineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:duckdb_ingestion-chunks';
    try {
      const execution = await new StateMachineChunkExecutions(sfn, machineArn).start({ ...planned, items: [] });

      expect(execution).toBe('arn:aws:states:us-east-1:123456789012:execution:m:e');
      expect(requests).toHaveLength(1);
      expect(requests[0]?.target).toBe('AWSStepFunctions.StartExecution');
      expect(requests[0]?.body).toMatchObject({
        stateMachineArn: machineArn,
        name: expect.stringMatching(/^[0-9a-f]{24}-[0-9a-z]+$/),
      });
      expect(JSON.parse(requests[0]?.body.input as string)).toEqual(planned);
    } finally {
      sfn.destroy();
      await new Promise((closed) => server.close(closed));
    }
  });
});
