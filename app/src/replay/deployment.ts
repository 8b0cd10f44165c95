import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createS3Client } from '../io/s3-io';

/** Where the zones, the ingestion function and the queues are: on AWS, the stack's outputs; locally, the lakehouse. */
export interface Deployment {
  buckets: { raw: string; silver: string; gold: string };
  functionName: string;
  goldQueueUrl: string;
  goldDeadLetterQueueUrl: string;
  failedEventsQueueUrl: string;
  /** The local lakehouse's endpoint (S3, Lambda and SQS APIs on one port); none on AWS. */
  endpoint?: string;
}

/** Credentials the local lakehouse accepts (as LocalStack's). */
const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
const LOCAL_REGION = 'us-east-1';

/** The local lakehouse's names: the function and queues it serves beside S3. */
export const LOCAL_NAMES = {
  functionName: 'ingestion',
  goldQueue: 'gold.fifo',
  goldDeadLetterQueue: 'gold-dead-letter.fifo',
  failedEventsQueue: 'failed-events',
} as const;

/** A local queue's URL: `<endpoint>/queue/<name>`, so its name is the last path segment. */
export const localQueueUrl = (endpoint: string, name: string) => `${endpoint}/queue/${name}`;

export function localDeployment(endpoint: string): Deployment {
  return {
    buckets: { raw: 'raw', silver: 'silver', gold: 'gold' },
    functionName: LOCAL_NAMES.functionName,
    goldQueueUrl: localQueueUrl(endpoint, LOCAL_NAMES.goldQueue),
    goldDeadLetterQueueUrl: localQueueUrl(endpoint, LOCAL_NAMES.goldDeadLetterQueue),
    failedEventsQueueUrl: localQueueUrl(endpoint, LOCAL_NAMES.failedEventsQueue),
    endpoint,
  };
}

export class StackOutputsError extends Error {
  override name = 'StackOutputsError';
}

const OUTPUTS = {
  raw: 'raw_bucket',
  silver: 'silver_bucket',
  gold: 'gold_bucket',
  functionName: 'function_name',
  goldQueueUrl: 'gold_queue_url',
  goldDeadLetterQueueUrl: 'gold_dead_letter_queue_url',
  failedEventsQueueUrl: 'failed_events_queue_url',
} as const;

/**
 * The deployment named by the stack's outputs, as `terraform output -json`
 * prints them (`{"raw_bucket": {"value": ...}}`) or as `cdktf output
 * --outputs-file` writes them (`{"lakehouse": {"raw_bucket": ...}}`).
 */
export function deploymentFromOutputs(json: unknown): Deployment {
  const root = (json ?? {}) as Record<string, unknown>;
  const flat = (OUTPUTS.raw in root ? root : (root.lakehouse ?? {})) as Record<string, unknown>;
  const value = (name: string): string => {
    const entry = flat[name];
    const text = typeof entry === 'object' && entry !== null ? (entry as { value?: unknown }).value : entry;
    if (typeof text !== 'string' || !text) throw new StackOutputsError(`the stack's outputs have no ${name}`);
    return text;
  };
  return {
    buckets: { raw: value(OUTPUTS.raw), silver: value(OUTPUTS.silver), gold: value(OUTPUTS.gold) },
    functionName: value(OUTPUTS.functionName),
    goldQueueUrl: value(OUTPUTS.goldQueueUrl),
    goldDeadLetterQueueUrl: value(OUTPUTS.goldDeadLetterQueueUrl),
    failedEventsQueueUrl: value(OUTPUTS.failedEventsQueueUrl),
  };
}

export interface DeploymentClients {
  s3: S3Client;
  lambda: LambdaClient;
  sqs: SQSClient;
}

/** SDK clients for a deployment: the caller's credentials on AWS; test/test on the local lakehouse. */
export function clientsFor(deployment: Deployment): DeploymentClients {
  const endpoint = deployment.endpoint;
  if (!endpoint) return { s3: createS3Client({}), lambda: new LambdaClient({}), sqs: new SQSClient({}) };
  const local = { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  return {
    s3: new S3Client({
      ...local,
      forcePathStyle: true,
      // The local server predates flexible checksums (see docs/local-lakehouse.md).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    lambda: new LambdaClient(local),
    sqs: new SQSClient(local),
  };
}

export function destroyClients(clients: DeploymentClients): void {
  clients.s3.destroy();
  clients.lambda.destroy();
  clients.sqs.destroy();
}
