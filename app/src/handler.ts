import type { S3Event } from 'aws-lambda';
import { type IngestOutcome, ingestObject } from './ingest/ingest-object';
import { decideRecord, recordsOf } from './ingest/s3-event';
import { logger } from './logger';
import { recordOutcome, recordTransientFailure } from './metrics';
import { type Runtime, runtime } from './runtime';

/**
 * The ingestion function: one S3 notification, every record in it. Poison
 * files are quarantined and do not fail the invocation; a transient error
 * does, after the other records ran, so Lambda retries the event (outputs are
 * deterministic, so the records that succeeded are simply rewritten).
 */
export async function handleS3Event(event: S3Event, rt: Runtime): Promise<IngestOutcome[]> {
  const outcomes: IngestOutcome[] = [];
  let failure: unknown;
  for (const record of recordsOf(event)) {
    const decision = decideRecord(record);
    if ('skip' in decision) {
      logger.info('skipped record', { key: record.s3?.object?.key, reason: decision.skip });
      outcomes.push({ status: 'skipped', reason: decision.skip });
      continue;
    }
    const started = performance.now();
    try {
      const outcome = await ingestObject(decision.ingest, rt);
      const ms = Math.round(performance.now() - started);
      logger.info('processed object', { key: decision.ingest.key, ms, ...outcome });
      recordOutcome(outcome, ms);
      outcomes.push(outcome);
    } catch (error) {
      logger.error('transient failure; the event will be retried', { key: decision.ingest.key, error: error as Error });
      recordTransientFailure();
      failure ??= error;
    }
  }
  if (failure) throw failure;
  return outcomes;
}

export const handler = async (event: S3Event): Promise<IngestOutcome[]> => handleS3Event(event, runtime());
