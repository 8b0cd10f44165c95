import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { ENV, GOLD_COMMAND, SCHEMA_PREFIX } from '@lakehouse/contract';
import { Fn, Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import { GoldQueue } from './gold-queue';
import { PipelineFunction } from './pipeline-function';
import type { StorageConstruct } from './storage';
import type { StackVariables } from './variables';

export interface IngestionProps {
  vars: StackVariables;
  storage: StorageConstruct;
  imageUri: string;
  accountId: string;
}

/** S3's retries of a failed async invocation (the maximum), and how long an event may wait for them. */
export const ASYNC_RETRY_ATTEMPTS = 2;
export const MAX_EVENT_AGE_SECONDS = 6 * 3600;

/**
 * The pipeline's functions and their wiring: raw ObjectCreated events invoke
 * the ingestion function (raw -> silver), which queues one gold job per silver
 * file; the gold function consumes the FIFO queue (silver -> gold). Events
 * that still fail after Lambda's retries land in an encrypted queue instead of
 * being dropped.
 */
export class IngestionConstruct extends Construct {
  readonly ingest: PipelineFunction;
  readonly gold: PipelineFunction;
  readonly goldQueue: GoldQueue;
  readonly failedEvents: SqsQueue;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    const { vars, storage } = props;
    const lambdaName = vars.lambdaName.stringValue;

    this.ingest = new PipelineFunction(this, 'ingest', {
      functionName: lambdaName,
      roleName: 'role_lambda_duckdb',
      policyName: 'policy_lambda_duckdb',
      imageUri: props.imageUri,
      timeout: vars.timeout.numberValue,
      reservedConcurrency: vars.reservedConcurrency.numberValue,
      vars,
    });
    this.gold = new PipelineFunction(this, 'gold', {
      functionName: `${lambdaName}_gold`,
      roleName: 'role_lambda_duckdb_gold',
      policyName: 'policy_lambda_duckdb_gold',
      imageUri: props.imageUri,
      command: [GOLD_COMMAND],
      timeout: vars.goldTimeout.numberValue,
      reservedConcurrency: vars.goldReservedConcurrency.numberValue,
      vars,
    });

    // raw -> silver: read the raw object (by version), write silver (clean data, _rejects/, _quarantine/).
    storage.grantRead(this.ingest, 'raw');
    storage.grantWrite(this.ingest, 'silver');
    // Each dataset's current schema (_schema/<dataset>/schema.json), read and conditionally rewritten by ingestion;
    // ListBucket makes a dataset's first file find "no schema yet" (404) instead of "access denied" (403).
    this.ingest.grant({
      sid: 'ReadSilverSchemas',
      actions: ['s3:GetObject'],
      resources: [`${storage.bucket('silver').arn}/${SCHEMA_PREFIX}/*`],
    });
    storage.grantList(this.ingest, 'silver');
    storage.bindName(this.ingest, 'silver');
    // Named only: on AWS the gold step runs in the gold function, so no gold grant here.
    storage.bindName(this.ingest, 'gold');

    // silver -> gold: read the silver file, read and rewrite (or delete) gold partitions and state.
    storage.grantRead(this.gold, 'silver');
    storage.grantRead(this.gold, 'gold');
    storage.grantWrite(this.gold, 'gold', { delete: true });
    storage.grantList(this.gold, 'gold');
    // A silver file gone by the time its job runs answers 404 (skipped), not 403 (retried 5 times).
    storage.grantList(this.gold, 'silver');
    storage.bindName(this.gold, 'silver');
    storage.bindName(this.gold, 'gold');
    // Gold state objects are immutable: a warm gold function keeps a quarter of its /tmp of them.
    this.gold.addEnvironment(
      ENV.goldCacheMb,
      Token.asString(Fn.floor(Op.div(vars.ephemeralStorageSize.numberValue, 4))),
    );

    this.goldQueue = new GoldQueue(this, 'gold-queue', { lambdaName, consumerTimeout: vars.goldTimeout.numberValue });
    this.goldQueue.bindProducer(this.ingest);
    this.goldQueue.bindConsumer(this.gold);

    this.failedEvents = new SqsQueue(this, 'failed-events', {
      name: `${lambdaName}-failed-events`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    // Lambda sends on-failure records with the function's own role.
    this.ingest.grant({ sid: 'SendFailedEvents', actions: ['sqs:SendMessage'], resources: [this.failedEvents.arn] });
    new LambdaFunctionEventInvokeConfig(this, 'async-failures', {
      functionName: this.ingest.functionName,
      maximumRetryAttempts: ASYNC_RETRY_ATTEMPTS,
      maximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS,
      destinationConfig: { onFailure: { destination: this.failedEvents.arn } },
      dependsOn: [this.ingest.role.policy],
    });

    const raw = storage.bucket('raw');
    const invokeFromRaw = new LambdaPermission(this, 'allow-raw-bucket', {
      statementId: 'AllowInvokeFromRawBucket',
      action: 'lambda:InvokeFunction',
      functionName: this.ingest.functionName,
      principal: 's3.amazonaws.com',
      sourceArn: raw.arn,
      // Bucket ARNs carry no account: this stops a same-named bucket elsewhere from invoking.
      sourceAccount: props.accountId,
    });
    new S3BucketNotification(this, 'raw-notification', {
      bucket: raw.id,
      lambdaFunction: [{ lambdaFunctionArn: this.ingest.arn, events: ['s3:ObjectCreated:*'] }],
      // S3 tests the destination when the notification is saved: the permission must exist first.
      dependsOn: [invokeFromRaw],
    });
  }
}
