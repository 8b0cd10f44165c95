import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { ENV, RECONCILE_COMMAND } from '@lakehouse/contract';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import type { IngestionConstruct } from './ingestion';
import { PipelineFunction } from './pipeline-function';
import type { StorageConstruct } from './storage';
import type { StackVariables } from './variables';

export interface ReconciliationProps {
  vars: StackVariables;
  storage: StorageConstruct;
  imageUri: string;
  ingestion: IngestionConstruct;
}

/**
 * `pnpm reconcile` on a schedule (optional, off by default): an EventBridge
 * rule runs a function of the pipeline image that lists raw, counts the
 * objects with no outcome and the silver files gold has not applied as
 * metrics (RawObjectsLeftBehind, SilverFilesNotInGold) that can alarm, and
 * with `reconcile_repair` hands them back to the ingestion function and the
 * gold queue.
 */
export class ScheduledReconciliation extends Construct {
  readonly fn: PipelineFunction;
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: ReconciliationProps) {
    super(scope, id);
    const { vars, storage, ingestion } = props;
    const lambdaName = vars.lambdaName.stringValue;
    this.fn = new PipelineFunction(this, 'reconcile', {
      functionName: `${lambdaName}_reconcile`,
      roleName: 'role_lambda_duckdb_reconcile',
      policyName: 'policy_lambda_duckdb_reconcile',
      imageUri: props.imageUri,
      command: [RECONCILE_COMMAND],
      timeout: vars.timeout.numberValue,
      // None reserved: an account with the default low limit could not deploy it (passes are rare anyway).
      reservedConcurrency: -1,
      vars,
    });

    // Find: the current version of every raw object, the silver outputs, gold's manifest and ledger.
    const raw = storage.bucket('raw');
    this.fn.grant({
      sid: 'ListRawVersions',
      actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketVersioning'],
      resources: [raw.arn],
    });
    storage.grantList(this.fn, 'silver');
    storage.grantList(this.fn, 'gold');
    storage.grantRead(this.fn, 'gold');
    this.fn.addEnvironment(ENV.rawBucket, raw.bucket);
    storage.bindName(this.fn, 'silver');
    storage.bindName(this.fn, 'gold');

    // Repair: the pipeline's own entry points, with the code calling them only when repair is on.
    this.fn.grant({ sid: 'InvokeIngestion', actions: ['lambda:InvokeFunction'], resources: [ingestion.ingest.arn] });
    this.fn.addEnvironment(ENV.ingestFunctionName, ingestion.ingest.functionName);
    ingestion.goldQueue.bindProducer(this.fn);
    this.fn.addEnvironment(
      ENV.reconcileRepair,
      Token.asString(Fn.conditional(vars.reconcileRepair.booleanValue, 'true', 'false')),
    );

    this.rule = new CloudwatchEventRule(this, 'schedule', {
      name: `${lambdaName}-reconcile`,
      description: 'Runs the scheduled reconciliation of the lakehouse zones',
      scheduleExpression: vars.reconcileSchedule.stringValue,
      state: Token.asString(Fn.conditional(vars.reconcileEnabled.booleanValue, 'ENABLED', 'DISABLED')),
    });
    const invokeFromSchedule = new LambdaPermission(this, 'allow-schedule', {
      statementId: 'AllowInvokeFromSchedule',
      action: 'lambda:InvokeFunction',
      functionName: this.fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: this.rule.arn,
    });
    new CloudwatchEventTarget(this, 'target', {
      rule: this.rule.name,
      arn: this.fn.arn,
      dependsOn: [invokeFromSchedule],
    });
  }
}
