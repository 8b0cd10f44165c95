import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { ENV } from '@lakehouse/contract';
import { Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import { jsonDocument } from './json-document';
import type { PipelineFunction } from './pipeline-function';

export interface GoldQueueProps {
  lambdaName: string;
  /** Timeout of the consuming function, in seconds. */
  consumerTimeout: number;
}

/** Receives before a message moves to the dead-letter queue. */
export const GOLD_MAX_RECEIVE_COUNT = 5;
/**
 * One message per gold invocation: a gold update of a big file may take most
 * of the timeout, and a timeout then fails (and counts a receive on) only
 * that message, never a batch of jobs waiting behind it.
 */
export const GOLD_BATCH_SIZE = 1;
const FOURTEEN_DAYS = 14 * 24 * 3600;

/**
 * The SQS FIFO queue between silver and gold. The ingestion function sends one
 * message per silver file with MessageGroupId = dataset, so the gold updates of
 * one dataset run one at a time (in order) however many ingestion functions run
 * at once, while different datasets proceed in parallel.
 */
export class GoldQueue extends Construct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, props: GoldQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new SqsQueue(this, 'dead-letters', {
      name: `${props.lambdaName}-gold-dlq.fifo`,
      fifoQueue: true,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: FOURTEEN_DAYS,
    });
    this.queue = new SqsQueue(this, 'jobs', {
      name: `${props.lambdaName}-gold.fifo`,
      fifoQueue: true,
      // The producer sets MessageDeduplicationId (the silver key).
      contentBasedDeduplication: false,
      sqsManagedSseEnabled: true,
      // AWS's guidance for Lambda consumers: at least six times the function timeout.
      visibilityTimeoutSeconds: Token.asNumber(Op.mul(props.consumerTimeout, 6)),
      messageRetentionSeconds: FOURTEEN_DAYS,
      redrivePolicy: jsonDocument({
        deadLetterTargetArn: this.deadLetterQueue.arn,
        maxReceiveCount: GOLD_MAX_RECEIVE_COUNT,
      }),
    });
  }

  /** The producer: GOLD_QUEUE_URL in its environment and sqs:SendMessage on this queue only. */
  bindProducer(fn: PipelineFunction): void {
    fn.addEnvironment(ENV.goldQueueUrl, this.queue.url);
    fn.grant({ sid: 'SendGoldJobs', actions: ['sqs:SendMessage'], resources: [this.queue.arn] });
  }

  /** The consumer: an event source mapping and the receive-side actions on this queue only. */
  bindConsumer(fn: PipelineFunction): LambdaEventSourceMapping {
    fn.grant({
      sid: 'ConsumeGoldJobs',
      // What Lambda's SQS poller calls (AWSLambdaSQSQueueExecutionRole), nothing more.
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      resources: [this.queue.arn],
    });
    return new LambdaEventSourceMapping(this, 'consumer', {
      eventSourceArn: this.queue.arn,
      functionName: fn.arn,
      batchSize: GOLD_BATCH_SIZE,
      // The gold handler reports the failed message and every later one of its group.
      functionResponseTypes: ['ReportBatchItemFailures'],
      // Lambda checks the role can read the queue when it creates the mapping.
      dependsOn: [fn.role.policy],
    });
  }
}
