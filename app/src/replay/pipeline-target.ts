import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3EventRecord } from 'aws-lambda';
import { type GoldMessage, goldMessage } from '../gold/gold-queue';

/** Where replayed work goes: the same entry points S3 and the ingestion function use. */
export interface PipelineTarget {
  /** Hands one S3 event to the ingestion function, asynchronously, as S3 does. */
  ingest(record: S3EventRecord): Promise<void>;
  /** Queues a gold job in its dataset's FIFO group, as the ingestion function does. */
  queueGold(job: GoldMessage, deduplicationId?: string): Promise<void>;
}

export class InvokeError extends Error {
  override name = 'InvokeError';
}

/**
 * The deployed pipeline: an asynchronous Lambda invocation (InvocationType
 * Event) per S3 event, so retries and the failed-events queue apply as for
 * S3's own events, and SendMessage to the gold FIFO queue. The local
 * lakehouse serves both APIs, so the same code runs against it.
 */
export function deployedPipeline(
  clients: { lambda: LambdaClient; sqs: SQSClient },
  names: { functionName: string; goldQueueUrl: string },
): PipelineTarget {
  return {
    async ingest(record) {
      const response = await clients.lambda.send(
        new InvokeCommand({
          FunctionName: names.functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify({ Records: [record] })),
        }),
      );
      if (response.StatusCode !== 202) {
        throw new InvokeError(`${names.functionName} answered ${response.StatusCode} to an asynchronous invocation`);
      }
    },
    async queueGold(job, deduplicationId) {
      const message = goldMessage(names.goldQueueUrl, job);
      await clients.sqs.send(
        new SendMessageCommand(deduplicationId ? { ...message, MessageDeduplicationId: deduplicationId } : message),
      );
    },
  };
}
