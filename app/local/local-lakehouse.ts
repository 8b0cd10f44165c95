import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { ENV, type Zone } from '@lakehouse/contract';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalS3 } from '@lakehouse/local-s3';
import type { S3EventRecord } from 'aws-lambda';
import { type Config, loadConfig } from '../src/config';
import type { Dataset } from '../src/datasets';
import type { GoldResult } from '../src/gold/apply-to-gold';
import { type GoldMessage, InProcessGoldQueue } from '../src/gold/gold-queue';
import { handleS3Event } from '../src/handler';
import type { IngestOutcome } from '../src/ingest/ingest-object';
import { decodeS3Key } from '../src/ingest/s3-event';
import { removeLeftovers } from '../src/io/work-dir';
import { logger } from '../src/logger';
import type { ProgressUpdate } from '../src/progress';
import { onFailureRecord } from '../src/replay/failure-record';
import { createRuntime, type Runtime } from '../src/runtime';
import type { StepsMs } from '../src/step-times';
import { FolderQueue } from './folder-queue';
import { localAwsApi, StoppingError } from './local-aws-api';
import { progressNote, startedNote } from './progress-notes';
import { WorkQueue } from './work-queue';

export const DEFAULT_PORT = 4566;
export const REPO_ROOT = resolve(__dirname, '..', '..');
/** `pnpm dev`'s folder (gitignored, kept across restarts): objects in `s3/`, work files in `work/`. */
export const LAKEHOUSE_HOME = join(REPO_ROOT, '.lakehouse');
export const DEFAULT_DATA_DIR = join(LAKEHOUSE_HOME, 's3');
export const BUCKETS = { raw: 'raw', silver: 'silver', gold: 'gold' } as const satisfies Record<Zone, string>;

export type EventStatus = 'ingested' | 'quarantined' | 'skipped' | 'failed' | 'abandoned';

/** The one log line written per raw object event. */
export interface EventLogEntry {
  time: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  status: EventStatus;
  bucket: string;
  key: string;
  eventName: string;
  size: number;
  /** The raw version the event names (S3 events carry the ETag; a versioned bucket adds the version). */
  eTag?: string;
  versionId?: string;
  attempts: number;
  /** Time queued before a worker took the event. */
  waitMs: number;
  /** Wall time of the handler, gold update included. */
  ms: number;
  /** Of which: folding the silver file into gold. */
  goldMs?: number;
  /** The gold partitions (values of the dataset's partition column) that update rebuilt. */
  goldPartitions?: string[];
  dataset?: string;
  format?: string;
  silverKey?: string;
  rejectsKey?: string;
  silverRows?: number;
  rejectedRows?: number;
  quarantineKey?: string;
  reason?: string;
  error?: string;
  /** The file was processed in this many chunks. */
  chunks?: number;
  /** The file was above the chunk size but processed whole, for this reason. */
  notSplit?: string;
  /** Of `ms`, each step's time (see app/src/step-times.ts); gold's is `goldMs` too. */
  stepsMs?: StepsMs;
}

export interface LocalLakehouseOptions {
  /** 0 picks a free port. Default 4566. */
  port?: number;
  /** Where the S3 server keeps its objects. Default `<repo>/.lakehouse/s3`. */
  dataDir?: string;
  /** The handler's WORK_DIR (downloads, DuckDB spill). Default `<dataDir>/../work`. */
  workDir?: string;
  /** Events handled at once. Default 4. */
  concurrency?: number;
  /** Waits before each retry of a failed event; Lambda retries an async invocation twice. */
  retryDelaysMs?: readonly number[];
  /** Receives one entry per event. Default: a JSON line on stdout. */
  log?: (entry: EventLogEntry) => void;
  /** Act as a Lambda function of this memory size (DuckDB gets its share); default: a 2 GB DuckDB limit. */
  lambdaMemoryMb?: number;
  /** Datasets to use instead of app/transforms. */
  datasets?: ReadonlyMap<string, Dataset>;
  /**
   * Receives human notes: each event as it starts, and where an event running
   * longer than `progressEveryMs` is (stage, bytes or percent). Default: none.
   */
  notes?: (text: string) => void;
  /** How often long events report their progress to `notes`. Default 2 s. */
  progressEveryMs?: number;
  /**
   * The failed-events queue and the gold dead-letter queue, kept as files
   * (one JSON per message) across restarts: `<dir>/failed-events`, `<dir>/gold-dead-letter`.
   * Default: beside `dataDir`.
   */
  queuesDir?: string;
  /**
   * CSV and Parquet files of a dataset with a folder above this size are processed
   * in chunks (split at record boundaries or row groups, then one commit). Default: none, every file whole.
   */
  chunkBytes?: number;
  /** Chunks of one file processed at once. Default 2. */
  chunkConcurrency?: number;
}

export interface StopOptions {
  /** How long in-flight events may run before they are abandoned. Default 30 s. */
  graceMs?: number;
}

export interface LocalLakehouse {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly dataDir: string;
  /** Events that failed after their retries, as on-failure records (`pnpm redrive` re-runs them). */
  readonly failedEvents: FolderQueue;
  /** Gold jobs sent through the SQS API that failed after their retries. */
  readonly goldDeadLetter: FolderQueue;
  /** The handler's configuration, as the Lambda would load it from its environment. */
  readonly cfg: Config;
  /** The datasets the handler runs (app/transforms, unless given). */
  readonly datasets: ReadonlyMap<string, Dataset>;
  /** An SDK client for the local endpoint (credentials test/test, path-style). */
  client(): S3Client;
  /** The entry of the next event for this raw key (decoded); call it before uploading. */
  whenProcessed(key: string): Promise<EventLogEntry>;
  /** Calls `listener` with every event's entry from now on (the console watches this way); returns the unsubscribe. */
  onEvent(listener: (entry: EventLogEntry) => void): () => void;
  /** Resolves when every event received so far has been handled. */
  idle(): Promise<void>;
  stats(): { waiting: number; running: number } & Record<EventStatus, number>;
  /**
   * Stops taking events, drops the queued ones, lets in-flight ones finish
   * (up to `graceMs`), then abandons the rest and closes the server.
   */
  stop(options?: StopOptions): Promise<void>;
  /** Stops at once: no abandoned event writes an output; ones already writing finish theirs. */
  abandon(): Promise<void>;
}

/** Raised by an output write of an event abandoned on shutdown, before it wrote anything. */
export class AbandonedError extends Error {
  override name = 'AbandonedError';
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

interface QueuedEvent {
  record: S3EventRecord;
  receivedAt: number;
}

/** One event being handled; the S3 client finds it through AsyncLocalStorage. */
interface EventScope {
  base: Pick<EventLogEntry, 'bucket' | 'key' | 'eventName' | 'size' | 'eTag' | 'versionId' | 'waitMs'>;
  started: number;
  attempts: number;
  /** It has sent a request that changes a bucket. */
  writing: boolean;
  goldMs: number;
  goldPartitions: string[];
  /** Its log line is out (abandoned events get theirs at once). */
  reported: boolean;
  settled: Promise<void>;
  /** Where its processing is, as the handler reports it. */
  progress?: ProgressUpdate;
}

/** The ARN the local ingestion function answers to in on-failure records. */
const LOCAL_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:ingestion';

/** Requests that change a bucket: the first one of an event commits it to finishing. */
const WRITE_COMMANDS = new Set([
  'PutObjectCommand',
  'CreateMultipartUploadCommand',
  'UploadPartCommand',
  'CompleteMultipartUploadCommand',
  'DeleteObjectCommand',
  'DeleteObjectsCommand',
  'CopyObjectCommand',
]);

/** True when nothing listens on 127.0.0.1:port. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const probe = createServer()
      .once('error', () => resolveFree(false))
      .once('listening', () => probe.close(() => resolveFree(true)))
      .listen(port, '127.0.0.1');
  });
}

/**
 * For the scripts: the handler logs every object at INFO, and the lakehouse
 * writes its own line per event, so keep only the handler's warnings and
 * errors unless POWERTOOLS_LOG_LEVEL says otherwise; skip the CloudWatch
 * metric lines (they mean nothing off AWS) and the SDK's notice about Node 20
 * (Lambda runs Node 22).
 */
export function quietLocalLogs(): void {
  if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

const jsonLine = (entry: EventLogEntry) => process.stdout.write(`${JSON.stringify(entry)}\n`);
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * An S3-compatible server with the raw, silver and gold buckets, and every
 * object created in raw handed to the Lambda's handler as an S3 event.
 */
export async function startLocalLakehouse(options: LocalLakehouseOptions = {}): Promise<LocalLakehouse> {
  const port = options.port ?? DEFAULT_PORT;
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const workDir = resolve(options.workDir ?? join(dirname(dataDir), 'work'));
  const log = options.log ?? jsonLine;
  const retryDelays = options.retryDelaysMs ?? [1000, 2000];
  await mkdir(dataDir, { recursive: true });
  await mkdir(workDir, { recursive: true });
  // A lakehouse killed mid-file left its work folders behind (nothing else uses this work dir).
  removeLeftovers(workDir);

  const queuesDir = resolve(options.queuesDir ?? dirname(dataDir));
  const failedEvents = new FolderQueue(join(queuesDir, 'failed-events'));
  const goldDeadLetter = new FolderQueue(join(queuesDir, 'gold-dead-letter'));
  // Lambda's and SQS's APIs on the same port; bound once the queue of events exists.
  let otherApis: ReturnType<typeof localAwsApi> | undefined;
  const s3 = await startLocalS3({
    buckets: Object.values(BUCKETS),
    port,
    directory: dataDir,
    intercept: (request, response) => otherApis?.(request, response) ?? false,
  }).catch((error) => {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(`port ${port} on 127.0.0.1 is already in use`, { cause: error });
    }
    throw error;
  });
  // The handler's S3 client takes its credentials from the SDK's default chain, as on Lambda.
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  const cfg = loadConfig({
    [ENV.silverBucket]: BUCKETS.silver,
    [ENV.goldBucket]: BUCKETS.gold,
    [ENV.s3Endpoint]: s3.endpoint,
    [ENV.region]: LOCAL_REGION,
    [ENV.workDir]: workDir,
    [ENV.lambdaMemoryMb]: options.lambdaMemoryMb?.toString(),
  });

  const scope = new AsyncLocalStorage<EventScope>();
  let abandoning = false;
  const chunks =
    options.chunkBytes === undefined
      ? undefined
      : { chunkBytes: options.chunkBytes, concurrency: options.chunkConcurrency ?? 2, retryDelaysMs: retryDelays };
  const rt = instrumentedRuntime(
    { ...createRuntime(cfg, options.datasets), ...(chunks ? { chunks } : {}) },
    scope,
    () => abandoning,
    options.notes !== undefined,
  );

  const counts: Record<EventStatus, number> = { ingested: 0, quarantined: 0, skipped: 0, failed: 0, abandoned: 0 };
  const inFlight = new Set<EventScope>();
  const notes = options.notes;
  const progressEveryMs = options.progressEveryMs ?? 2000;
  const note = (text: string) => {
    try {
      notes?.(text);
    } catch {
      // A broken notes sink must not stop the server.
    }
  };
  const watched = (event: EventScope) => ({ ...event.base, started: event.started, progress: event.progress });
  const ticker = notes
    ? setInterval(() => {
        const now = performance.now();
        for (const event of inFlight) {
          if (!event.reported && now - event.started >= progressEveryMs) note(progressNote(watched(event), now));
        }
      }, progressEveryMs)
    : undefined;
  ticker?.unref();
  const waiters = new Map<string, Array<(entry: EventLogEntry) => void>>();
  const listeners = new Set<(entry: EventLogEntry) => void>();
  let stopping = false;

  function report(entry: EventLogEntry, event?: EventScope): void {
    if (event?.reported) return;
    if (event) event.reported = true;
    counts[entry.status]++;
    for (const sink of [log, ...listeners]) {
      try {
        sink(entry);
      } catch {
        // A broken log sink must not stop the server.
      }
    }
    const pending = waiters.get(entry.key);
    waiters.delete(entry.key);
    for (const resolveEntry of pending ?? []) resolveEntry(entry);
  }

  function reportAbandoned(event: EventScope, error?: unknown): void {
    report(
      {
        ...stamp(
          'warn',
          'abandoned on shutdown before writing any output; pnpm reconcile processes it after a restart',
        ),
        ...event.base,
        status: 'abandoned',
        attempts: event.attempts,
        ms: Math.round(performance.now() - event.started),
        ...(error ? { error: message(error) } : {}),
      },
      event,
    );
  }

  /** Runs the handler on one event, retrying a failure as Lambda would, and reports once. */
  async function handle({ record, receivedAt }: QueuedEvent): Promise<void> {
    let markSettled = () => {};
    const started = performance.now();
    const event: EventScope = {
      base: eventBase(record, Math.round(started - receivedAt)),
      started,
      attempts: 0,
      writing: false,
      goldMs: 0,
      goldPartitions: [],
      reported: false,
      settled: new Promise((done) => (markSettled = done)),
    };
    inFlight.add(event);
    note(startedNote(watched(event)));
    try {
      for (;;) {
        event.attempts++;
        event.goldMs = 0;
        event.goldPartitions = [];
        try {
          const [outcome] = await scope.run(event, () => handleS3Event({ Records: [record] }, rt));
          report(entryOf(event, outcome), event);
          return;
        } catch (error) {
          if (error instanceof AbandonedError || (abandoning && !event.writing)) return reportAbandoned(event, error);
          const delay = retryDelays[event.attempts - 1];
          if (delay !== undefined && !stopping) await sleep(delay);
          if (delay === undefined || stopping) {
            // As Lambda does with an event past its retries: the on-failure destination keeps it.
            const failure = onFailureRecord(LOCAL_FUNCTION_ARN, record, error, event.attempts);
            await failedEvents.add(JSON.stringify(failure, null, 2)).catch(() => {});
            report(
              {
                ...stamp('error', 'processing failed'),
                ...event.base,
                status: 'failed',
                attempts: event.attempts,
                ms: Math.round(performance.now() - event.started),
                error: message(error),
              },
              event,
            );
            return;
          }
        }
      }
    } finally {
      inFlight.delete(event);
      markSettled();
    }
  }

  const queue = new WorkQueue<QueuedEvent>(options.concurrency ?? 4, handle);
  const unsubscribe = s3.onObjectCreated((record) => {
    if (record.s3.bucket.name !== BUCKETS.raw || stopping) return;
    queue.push({ record, receivedAt: performance.now() });
  });
  otherApis = localAwsApi({
    invokeIngestion(records) {
      if (stopping) throw new StoppingError('the local lakehouse is stopping');
      for (const record of records) queue.push({ record, receivedAt: performance.now() });
    },
    sendGold: (body) => void runGoldMessage(body),
    failedEvents,
    goldDeadLetter,
  });

  /** A gold job sent to the gold queue: retried as the event retries, then kept in the dead-letter queue. */
  async function runGoldMessage(body: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const job = JSON.parse(body) as GoldMessage;
        await rt.gold.submit(job);
        note(`gold job applied: ${describeGoldMessage(job)}`);
        return;
      } catch (error) {
        const delay = retryDelays[attempt - 1];
        if (delay === undefined || stopping) {
          note(`gold job failed after ${attempt} attempt(s), kept in the dead-letter queue: ${message(error)}`);
          await goldDeadLetter.add(body).catch(() => {});
          return;
        }
        await sleep(delay);
      }
    }
  }

  let closed: Promise<void> | undefined;
  async function abandon(): Promise<void> {
    stopping = true;
    abandoning = true;
    unsubscribe();
    closed ??= (async () => {
      // Events that already wrote an output finish writing; the others will fail
      // at their first write, so they are reported now.
      for (const event of inFlight) if (!event.writing) reportAbandoned(event);
      await Promise.all([...inFlight].filter((event) => event.writing).map((event) => event.settled));
      clearInterval(ticker);
      // The handler's client is not used again: release its sockets.
      rt.s3.destroy();
      await s3.close();
    })();
    await closed;
  }

  return {
    endpoint: s3.endpoint,
    port: s3.port,
    dataDir,
    failedEvents,
    goldDeadLetter,
    cfg,
    datasets: rt.datasets,
    client: () => s3.client(),
    whenProcessed(key) {
      return new Promise((resolveEntry) => waiters.set(key, [...(waiters.get(key) ?? []), resolveEntry]));
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    idle: () => queue.idle(),
    stats: () => ({ ...queue.size, ...counts }),
    async stop({ graceMs = 30_000 } = {}) {
      stopping = true;
      unsubscribe();
      const now = performance.now();
      for (const dropped of queue.drop()) {
        report({
          ...stamp('warn', 'not processed: the lakehouse stopped first; pnpm reconcile processes it after a restart'),
          ...eventBase(dropped.record, Math.round(now - dropped.receivedAt)),
          status: 'abandoned',
          attempts: 0,
          ms: 0,
        });
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([queue.idle(), new Promise((done) => (timer = setTimeout(done, graceMs)))]);
      clearTimeout(timer);
      await abandon();
    },
    abandon,
  };
}

function describeGoldMessage(job: GoldMessage): string {
  return 'switchTo' in job
    ? `${job.dataset} switched to ${job.switchTo.generation}`
    : `${job.dataset} ← ${job.silverKey}`;
}

/** What every log line of an event says about its object. */
function eventBase(record: S3EventRecord, waitMs: number): EventScope['base'] {
  const { eTag, versionId } = record.s3.object;
  return {
    bucket: record.s3.bucket.name,
    key: decodeS3Key(record.s3.object.key),
    eventName: record.eventName,
    size: record.s3.object.size,
    ...(eTag ? { eTag } : {}),
    ...(versionId ? { versionId } : {}),
    waitMs,
  };
}

function stamp(level: EventLogEntry['level'], text: string) {
  return { time: new Date().toISOString(), level, message: text };
}

function entryOf(event: EventScope, outcome: IngestOutcome | undefined): EventLogEntry {
  const timing = {
    attempts: event.attempts,
    ms: Math.round(performance.now() - event.started),
    ...(event.goldMs ? { goldMs: event.goldMs } : {}),
    ...(event.goldPartitions.length ? { goldPartitions: [...new Set(event.goldPartitions)].sort() } : {}),
  };
  const base = event.base;
  if (!outcome) return { ...stamp('warn', 'no outcome'), ...base, status: 'skipped', ...timing };
  switch (outcome.status) {
    case 'ingested':
      return { ...stamp('info', 'object ingested'), ...base, ...outcome, ...timing };
    case 'quarantined':
      return { ...stamp('warn', 'object quarantined'), ...base, ...outcome, ...timing };
    case 'skipped':
      return { ...stamp('info', 'object skipped'), ...base, ...outcome, ...timing };
    case 'planned':
      throw new Error('the local lakehouse runs its chunks itself: it hands no plan to a state machine');
  }
}

/**
 * The Lambda's runtime with local additions: gold time is measured per
 * event; once shutdown abandons events, an event that has not written
 * anything yet cannot start to (so it leaves no partial outputs); when
 * someone `watch`es, the handler's progress is kept on its event; and the
 * gold partitions an event's update rebuilt are kept on it (the console's lineage).
 */
function instrumentedRuntime(
  rt: Runtime,
  scope: AsyncLocalStorage<EventScope>,
  abandoning: () => boolean,
  watch: boolean,
): Runtime {
  // The same in-process queue the runtime would use, keeping each job's result for its event.
  const goldResults = new WeakMap<GoldMessage, GoldResult>();
  const gold = new InProcessGoldQueue(async (job) => {
    const result = await rt.applyGold(job);
    if (result) goldResults.set(job, result);
  });
  rt.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const event = scope.getStore();
      if (event && context.commandName && WRITE_COMMANDS.has(context.commandName)) {
        if (!event.writing && abandoning()) throw new AbandonedError('the local lakehouse is shutting down');
        event.writing = true;
      }
      return next(args);
    },
    { step: 'initialize', name: 'localLakehouseShutdownGate' },
  );
  return {
    ...rt,
    ...(watch
      ? {
          progress(update: ProgressUpdate) {
            const event = scope.getStore();
            if (event) event.progress = update;
          },
        }
      : {}),
    gold: {
      async submit(job) {
        const started = performance.now();
        const event = scope.getStore();
        try {
          await gold.submit(job);
          event?.goldPartitions.push(...(goldResults.get(job)?.partitions ?? []));
        } finally {
          if (event) event.goldMs += Math.round(performance.now() - started);
        }
      },
    },
  };
}
