import { createHash } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { silverKey } from '@lakehouse/contract';
import type { S3EventRecord } from 'aws-lambda';
import type { GoldMessage } from '../gold/gold-queue';
import { decodeS3Key } from '../ingest/s3-event';
import { unquote } from '../io/s3-io';
import { failedRecordsOf, failureReason } from './failure-record';
import { findLeftBehind, type ScanDeps } from './left-behind';
import type { PipelineTarget } from './pipeline-target';
import { listRawObjects, type RawVersion, versionOf } from './raw-objects';

export interface RedriveDeps extends ScanDeps {
  sqs: SQSClient;
  target: PipelineTarget;
  queues: { failedEvents: string; goldDeadLetter: string };
}

export interface RedriveOptions {
  /** How long to wait for the re-submitted work before reporting what still fails (0: do not wait). */
  waitMs?: number;
  pollMs?: number;
  say?: (line: string) => void;
}

export interface RedriveReport {
  /** S3 events handed to the ingestion function again. */
  events: string[];
  /** Gold jobs moved from the dead-letter queue back to the gold queue. */
  goldJobs: string[];
  /** Events and jobs dropped because a newer version of their object has been written since (its own event covers it). */
  superseded: string[];
  /** Messages left in the failed-events queue: not on-failure records of S3 events. */
  unreadable: string[];
  /** After the wait: raw keys (or silver keys) that failed again, and why. */
  stillFailing: Array<{ key: string; reason: string }>;
  /** After the wait: re-submitted work with no outcome yet and no new failure. */
  pending: string[];
}

/** Long enough to re-submit a batch; a message not deleted reappears after it. */
const VISIBILITY_SECONDS = 300;

/**
 * Empties the failed-events queue into the ingestion function (each
 * message's original S3 event, as an asynchronous invocation) and the gold
 * dead-letter queue into the gold queue, then waits and reports what still
 * fails, with the error of its new on-failure record. Only the current
 * version of an object is re-run: replaying an older one would let its rows
 * win over the newer version's in gold.
 */
export async function redrive(deps: RedriveDeps, options: RedriveOptions = {}): Promise<RedriveReport> {
  const say = options.say ?? (() => {});
  const report: RedriveReport = {
    events: [],
    goldJobs: [],
    superseded: [],
    unreadable: [],
    stillFailing: [],
    pending: [],
  };
  const current = new Map((await listRawObjects(deps.s3, deps.zones.raw)).map((raw) => [raw.key, raw]));
  const seen = new Set<string>();
  await redriveFailedEvents(deps, current, report, seen, say);
  await redriveGoldDeadLetters(deps, current, report, seen, say);
  say(
    `redriven: ${report.events.length} event(s) to the ingestion function, ${report.goldJobs.length} gold job(s) to the gold queue`,
  );
  if (!options.waitMs || report.events.length + report.goldJobs.length === 0) return report;

  const deadline = performance.now() + options.waitMs;
  for (;;) {
    const found = await findLeftBehind(deps);
    const left = new Set(
      [...found.noOutcome, ...found.uploadedAgain, ...found.notInGold.map(({ raw }) => raw)].map((raw) => raw.key),
    );
    const leftSilver = new Set(found.notInGold.map(({ job }) => job.silverKey));
    const failures = await newFailures(deps, seen);
    report.stillFailing = [...report.events, ...report.goldJobs].flatMap((key) => {
      const reason = failures.get(key);
      return reason ? [{ key, reason }] : [];
    });
    report.pending = [
      ...report.events.filter((key) => left.has(key) && !failures.has(key)),
      ...report.goldJobs.filter((key) => leftSilver.has(key) && !failures.has(key)),
    ];
    if (report.pending.length === 0 || performance.now() >= deadline) break;
    await new Promise((done) => setTimeout(done, options.pollMs ?? 500));
  }
  for (const { key, reason } of report.stillFailing) say(`still failing: ${key}: ${reason}`);
  for (const key of report.pending) say(`no outcome yet: ${key} (still running or being retried; run again later)`);
  if (report.stillFailing.length + report.pending.length === 0) say('done: everything redriven has its outcome');
  return report;
}

/** The failed-events queue's S3 events, each back to the ingestion function if its object version is current. */
async function redriveFailedEvents(
  deps: RedriveDeps,
  current: ReadonlyMap<string, RawVersion>,
  report: RedriveReport,
  seen: Set<string>,
  say: (line: string) => void,
): Promise<void> {
  await drain(deps.sqs, deps.queues.failedEvents, async (message) => {
    seen.add(message.id);
    const failed = failedRecordsOf(message.body);
    if (!failed) {
      report.unreadable.push(message.id);
      say(`left in the failed-events queue: message ${message.id} is not an on-failure record of an S3 event`);
      return false;
    }
    for (const record of failed.records) {
      const key = decodeS3Key(record.s3.object.key);
      if (!isCurrent(record, current.get(key))) {
        report.superseded.push(key);
        say(`dropped ${key}: it has been overwritten or deleted since this event`);
        continue;
      }
      say(`re-running ${key} (${failureReason(failed.record)})`);
      await deps.target.ingest(record);
      report.events.push(key);
    }
    return true;
  });
}

/** The gold dead-letter queue's jobs, back to the gold queue if their silver file is of a current raw version. */
async function redriveGoldDeadLetters(
  deps: RedriveDeps,
  current: ReadonlyMap<string, RawVersion>,
  report: RedriveReport,
  seen: Set<string>,
  say: (line: string) => void,
): Promise<void> {
  const currentSilver = new Set([...current.values()].map((raw) => silverKey(raw.key, versionOf(raw))));
  await drain(deps.sqs, deps.queues.goldDeadLetter, async (message) => {
    seen.add(message.id);
    const job = goldMessageOf(message.body);
    if (!job) {
      report.unreadable.push(message.id);
      say(`left in the gold dead-letter queue: message ${message.id} is not a gold job`);
      return false;
    }
    const name = 'silverKey' in job ? job.silverKey : `${job.dataset} switch to ${job.switchTo.generation}`;
    if ('silverKey' in job && !currentSilver.has(job.silverKey)) {
      report.superseded.push(job.silverKey);
      say(`dropped gold job ${job.silverKey}: its raw object has been overwritten or deleted since`);
      return true;
    }
    // A new deduplication id: the original one may still be inside SQS's five-minute window.
    await deps.target.queueGold(job, createHash('sha256').update(`redrive:${message.id}`).digest('hex'));
    report.goldJobs.push(name);
    say(`moved back to the gold queue: ${name}`);
    return true;
  });
}

function goldMessageOf(body: string): GoldMessage | undefined {
  try {
    const job = JSON.parse(body) as GoldMessage;
    return typeof job?.dataset === 'string' && ('silverKey' in job || 'switchTo' in job) ? job : undefined;
  } catch {
    return undefined;
  }
}

function isCurrent(record: S3EventRecord, raw: RawVersion | undefined): boolean {
  if (!raw) return false;
  const { versionId, eTag } = record.s3.object;
  return versionId ? versionId === raw.versionId : !eTag || unquote(eTag) === raw.eTag;
}

interface QueueMessage {
  id: string;
  body: string;
}

/** Receives every message of a queue once; `handle` returning true deletes it. */
async function drain(sqs: SQSClient, queueUrl: string, handle: (message: QueueMessage) => Promise<boolean>) {
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: VISIBILITY_SECONDS }),
    );
    if (Messages.length === 0) return;
    for (const message of Messages) {
      const done = await handle({ id: message.MessageId ?? '', body: message.Body ?? '' });
      if (done) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

/**
 * What failed again since the redrive began, read without hiding the
 * messages: raw keys from new on-failure records (with their error), silver
 * keys of gold jobs back in the dead-letter queue (it keeps no error: the gold log has it).
 */
async function newFailures(deps: RedriveDeps, seen: ReadonlySet<string>): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  for (const { id, body } of await peek(deps.sqs, deps.queues.failedEvents)) {
    if (seen.has(id)) continue;
    const failed = failedRecordsOf(body);
    for (const record of failed?.records ?? []) {
      failures.set(decodeS3Key(record.s3.object.key), failureReason((failed as NonNullable<typeof failed>).record));
    }
  }
  for (const { id, body } of await peek(deps.sqs, deps.queues.goldDeadLetter)) {
    const job = seen.has(id) ? undefined : goldMessageOf(body);
    if (job && 'silverKey' in job) {
      failures.set(job.silverKey, "failed again in the gold step: the gold function's log has the error");
    }
  }
  return failures;
}

/** Up to 100 messages of a queue, left visible. */
async function peek(sqs: SQSClient, queueUrl: string): Promise<QueueMessage[]> {
  const messages = new Map<string, QueueMessage>();
  for (let batch = 0; batch < 10; batch++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );
    const fresh = Messages.filter((message) => !messages.has(message.MessageId ?? ''));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      messages.set(message.MessageId ?? '', { id: message.MessageId ?? '', body: message.Body ?? '' });
    }
  }
  return [...messages.values()];
}
