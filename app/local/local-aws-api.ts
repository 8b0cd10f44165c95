import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { recordsOf } from '../src/ingest/s3-event';
import { LOCAL_NAMES } from '../src/replay/deployment';
import type { FolderQueue } from './folder-queue';

/**
 * What the local lakehouse serves beside S3, on the same port, so that the
 * tools that replay work on AWS (reconcile, redrive, backfill) run unchanged
 * against it: Lambda's Invoke API for the ingestion function (asynchronous
 * invocations only) and SQS's JSON API for the gold queue (SendMessage) and
 * the failed-events and gold dead-letter queues (ReceiveMessage, DeleteMessage).
 */
export interface LocalFunctions {
  /** Queues the records of an asynchronous invocation of the ingestion function. */
  invokeIngestion(records: S3EventRecord[]): void;
  /** Runs a gold job sent to the gold queue (in its dataset's order). */
  sendGold(body: string): void;
  failedEvents: FolderQueue;
  goldDeadLetter: FolderQueue;
}

/** Raised by `invokeIngestion` once the lakehouse is stopping. */
export class StoppingError extends Error {
  override name = 'StoppingError';
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** A request handler for `startLocalS3({ intercept })`: true when it answers the request. */
export function localAwsApi(
  functions: LocalFunctions,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const invoke = request.method === 'POST' ? INVOKE_PATH.exec(path) : null;
    const target = request.headers['x-amz-target'];
    const sqsOperation = typeof target === 'string' && target.startsWith('AmazonSQS.') ? target.slice(10) : undefined;
    if (!invoke && !sqsOperation) return false;
    void readBody(request)
      .then((body) =>
        invoke
          ? answerInvoke(response, invokeFunction(functions, decodeURIComponent(invoke[1] as string), request, body))
          : sqs(functions, sqsOperation as string, body, response),
      )
      .catch((error: Error) => {
        if (!response.headersSent) json(response, 500, { __type: 'InternalFailure', message: error.message });
      });
    return true;
  };
}

/** How the Invoke API answers: 202 for an accepted asynchronous invocation, else an error. */
interface InvokeAnswer {
  status: number;
  error?: { type: string; message: string };
}

function invokeFunction(functions: LocalFunctions, name: string, request: IncomingMessage, body: string): InvokeAnswer {
  const refuse = (status: number, type: string, message: string) => ({ status, error: { type, message } });
  // A name, or an ARN ending in it.
  if (name.split(':').at(-1) !== LOCAL_NAMES.functionName) {
    return refuse(404, 'ResourceNotFoundException', `Function not found: ${name}`);
  }
  if (request.headers['x-amz-invocation-type'] !== 'Event') {
    return refuse(
      400,
      'InvalidParameterValueException',
      'the local lakehouse runs the ingestion function asynchronously only (InvocationType Event)',
    );
  }
  let event: Partial<S3Event>;
  try {
    event = JSON.parse(body) as Partial<S3Event>;
  } catch {
    return refuse(400, 'InvalidRequestContentException', 'the payload is not JSON');
  }
  try {
    functions.invokeIngestion(recordsOf(event));
  } catch (error) {
    if (error instanceof StoppingError) return refuse(503, 'ServiceException', error.message);
    throw error;
  }
  return { status: 202 };
}

function answerInvoke(response: ServerResponse, answer: InvokeAnswer): void {
  if (!answer.error) {
    response.writeHead(answer.status).end();
    return;
  }
  json(
    response,
    answer.status,
    { Type: 'User', message: answer.error.message },
    { 'x-amzn-errortype': answer.error.type },
  );
}

async function sqs(functions: LocalFunctions, operation: string, body: string, response: ServerResponse) {
  const input = JSON.parse(body || '{}') as Record<string, unknown>;
  const queue = String(input.QueueUrl ?? '')
    .split('/')
    .at(-1);
  const sqsError = (type: string, message: string) =>
    json(response, 400, { __type: `com.amazonaws.sqs#${type}`, message });
  const receivable =
    queue === LOCAL_NAMES.failedEventsQueue
      ? functions.failedEvents
      : queue === LOCAL_NAMES.goldDeadLetterQueue
        ? functions.goldDeadLetter
        : undefined;
  switch (operation) {
    case 'SendMessage': {
      if (queue !== LOCAL_NAMES.goldQueue) return sqsError('UnsupportedOperation', `SendMessage to ${queue}`);
      const messageBody = String(input.MessageBody ?? '');
      functions.sendGold(messageBody);
      return json(response, 200, { MessageId: randomUUID(), MD5OfMessageBody: md5(messageBody), SequenceNumber: '0' });
    }
    case 'ReceiveMessage': {
      if (!receivable) return sqsError('UnsupportedOperation', `ReceiveMessage from ${queue}`);
      const max = Number(input.MaxNumberOfMessages ?? 1);
      const messages = await receivable.receive(max, Number(input.VisibilityTimeout ?? 30));
      return json(response, 200, {
        Messages: messages.map((message) => ({
          MessageId: message.id,
          ReceiptHandle: message.receiptHandle,
          MD5OfBody: md5(message.body),
          Body: message.body,
        })),
      });
    }
    case 'DeleteMessage': {
      if (!receivable) return sqsError('UnsupportedOperation', `DeleteMessage from ${queue}`);
      await receivable.delete(String(input.ReceiptHandle ?? ''));
      return json(response, 200, {});
    }
    default:
      return sqsError('UnsupportedOperation', `the local lakehouse does not serve SQS ${operation}`);
  }
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers }).end(JSON.stringify(body));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
