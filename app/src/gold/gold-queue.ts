import { createHash } from 'node:crypto';
import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from '@aws-sdk/client-sqs';
import type { GoldJob } from './apply-to-gold';
import type { GenerationSwitch } from './switch-generation';

/** What the gold step runs, one at a time per dataset: a silver file to fold in, or a backfill's switch. */
export type GoldMessage = GoldJob | GenerationSwitch;

/** Where the ingestion step hands a silver file for its gold update. */
export interface GoldQueue {
  submit(job: GoldMessage): Promise<void>;
}

/**
 * On AWS: one SQS FIFO message group per dataset, so gold updates of a
 * dataset run one at a time across all concurrent ingestion functions. The
 * silver key deduplicates re-deliveries within SQS's five-minute window.
 */
export class SqsGoldQueue implements GoldQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async submit(job: GoldMessage): Promise<void> {
    await this.sqs.send(new SendMessageCommand(goldMessage(this.queueUrl, job)));
  }
}

/** The FIFO message for a job: grouped by dataset, deduplicated by silver object (a switch, by its generation). */
export function goldMessage(queueUrl: string, job: GoldMessage): SendMessageCommandInput {
  return {
    QueueUrl: queueUrl,
    MessageBody: JSON.stringify(job),
    MessageGroupId: job.dataset,
    // Any characters may appear in a key; SQS allows 128 of a restricted set.
    MessageDeduplicationId: createHash('sha256')
      .update('silverKey' in job ? job.silverKey : JSON.stringify(job))
      .digest('hex'),
  };
}

/**
 * In one process (local lakehouse, tests): jobs of one dataset run one after
 * another, in submission order; submit resolves when its job is applied.
 */
export class InProcessGoldQueue implements GoldQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly apply: (job: GoldMessage) => Promise<unknown>) {}

  submit(job: GoldMessage): Promise<void> {
    const previous = this.tails.get(job.dataset) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.apply(job));
    this.tails.set(job.dataset, run);
    void run
      .finally(() => {
        if (this.tails.get(job.dataset) === run) this.tails.delete(job.dataset);
      })
      .catch(() => undefined);
    return run.then(() => undefined);
  }
}
