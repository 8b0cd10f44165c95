import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { GoldMessage } from './gold/gold-queue';
import { logger } from './logger';
import { type Runtime, runtime } from './runtime';

/**
 * The gold function, fed by the SQS FIFO queue. Messages of a group (a
 * dataset) arrive in order; when one fails, it and every later message of the
 * same group are reported as failures, so that the group's order holds on
 * retry. Other groups in the batch go on: one dataset's failure never fails
 * another's messages.
 */
export async function handleGoldMessages(event: SQSEvent, rt: Runtime): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  const failedGroups = new Set<string>();
  for (const record of event.Records) {
    const group = record.attributes.MessageGroupId ?? '';
    if (failedGroups.has(group)) {
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    const started = performance.now();
    try {
      const job = JSON.parse(record.body) as GoldMessage;
      const result = await rt.applyGold(job);
      logger.info('gold updated', { ...job, ms: Math.round(performance.now() - started), ...result });
    } catch (error) {
      // Retried; after the queue's maxReceiveCount it moves to the dead-letter queue.
      logger.error('gold update failed', { messageId: record.messageId, body: record.body, error: error as Error });
      failures.push({ itemIdentifier: record.messageId });
      failedGroups.add(group);
    }
  }
  return { batchItemFailures: failures };
}

export const goldHandler = async (event: SQSEvent): Promise<SQSBatchResponse> => handleGoldMessages(event, runtime());
