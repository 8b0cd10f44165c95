import { randomUUID } from 'node:crypto';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { recordsOf } from '../ingest/s3-event';

/**
 * What Lambda sends to an asynchronous invocation's on-failure destination
 * (the failed-events queue): the original event in `requestPayload`, and the
 * last error in `responsePayload`. The local lakehouse writes the same.
 */
export interface OnFailureRecord {
  version: string;
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    /** RetriesExhausted, or EventAgeExceeded when the event outlived its maximum age. */
    condition: string;
    approximateInvokeCount: number;
  };
  requestPayload: Partial<S3Event>;
  responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
}

export function onFailureRecord(
  functionArn: string,
  record: S3EventRecord,
  error: unknown,
  attempts: number,
): OnFailureRecord {
  const failure = error instanceof Error ? error : new Error(String(error));
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `${functionArn}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: attempts,
    },
    requestPayload: { Records: [record] },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: failure.name, errorMessage: failure.message },
  };
}

/** The S3 records inside a failed-events message, or undefined when it is not an on-failure record of S3 events. */
export function failedRecordsOf(body: string): { records: S3EventRecord[]; record: OnFailureRecord } | undefined {
  try {
    const record = JSON.parse(body) as OnFailureRecord;
    const records = recordsOf(record.requestPayload ?? {});
    return records.length > 0 && records.every((r) => r.s3?.object?.key) ? { records, record } : undefined;
  } catch {
    return undefined;
  }
}

/** Why it failed, in a line: the condition and the last error. */
export function failureReason(record: OnFailureRecord): string {
  const error = record.responsePayload?.errorMessage
    ? `${record.responsePayload.errorType ?? 'Error'}: ${record.responsePayload.errorMessage}`
    : 'no error recorded';
  return `${record.requestContext?.condition ?? 'failed'} after ${record.requestContext?.approximateInvokeCount ?? '?'} attempt(s): ${error}`;
}
