// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { ENV, RECONCILE_COMMAND } from '@lakehouse/contract';
import { Testing } from 'cdktf';
import { type Json, type Synthesized, single, synthLakehouse } from './support/synth';

Testing.setupJest();

describe('ScheduledReconciliation', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthLakehouse();
  });

  const fn = () => single(s.json, 'aws_lambda_function', 'reconciliation_reconcile_function');
  const bucket = (zone: string) => single(s.json, 'aws_s3_bucket', `storage_${zone}_`);
  const rule = () => single(s.json, 'aws_cloudwatch_event_rule', 'reconciliation_schedule');
  const statements = (): Json[] =>
    JSON.parse(single(s.json, 'aws_iam_role_policy', 'reconciliation_reconcile_execution_policy').config.policy)
      .Statement;

  it('is off by default: a rule on the schedule variable, enabled only by reconcile_enabled', () => {
    expect(s.json.variable.reconcile_enabled.default).toBe(false);
    expect(s.json.variable.reconcile_repair.default).toBe(false);
    expect(s.json.variable.reconcile_schedule.default).toBe('rate(1 hour)');
    expect(s.synth).toHaveResourceWithProperties(CloudwatchEventRule, {
      name: '${var.lambda_name}-reconcile',
      schedule_expression: '${var.reconcile_schedule}',
      state: '${var.reconcile_enabled ? "ENABLED" : "DISABLED"}',
    });
  });

  it('invokes its own function of the pipeline image, which EventBridge may invoke from this rule only', () => {
    expect(fn().config).toMatchObject({
      function_name: '${var.lambda_name}_reconcile',
      image_config: { command: [RECONCILE_COMMAND] },
    });
    expect(s.synth).toHaveResourceWithProperties(CloudwatchEventTarget, { arn: fn().ref('arn') });
    expect(s.synth).toHaveResourceWithProperties(LambdaPermission, {
      function_name: fn().ref('function_name'),
      principal: 'events.amazonaws.com',
      source_arn: rule().ref('arn'),
    });
  });

  it('names what it reads and what it repairs through, and repairs only with reconcile_repair', () => {
    expect(fn().config.environment.variables).toMatchObject({
      [ENV.rawBucket]: bucket('raw').ref('bucket'),
      [ENV.silverBucket]: bucket('silver').ref('bucket'),
      [ENV.goldBucket]: bucket('gold').ref('bucket'),
      [ENV.ingestFunctionName]: single(s.json, 'aws_lambda_function', 'ingestion_ingest_function').ref('function_name'),
      [ENV.goldQueueUrl]: single(s.json, 'aws_sqs_queue', 'ingestion_gold-queue_jobs').ref('url'),
      [ENV.reconcileRepair]: '${var.reconcile_repair ? "true" : "false"}',
    });
  });

  it('may list the zones, read gold, invoke the ingestion function and send gold jobs, and nothing more', () => {
    const granted = statements().map((statement) => ({
      sid: statement.Sid,
      actions: [statement.Action].flat().sort(),
    }));
    expect(granted).toEqual([
      { sid: 'WriteOwnLogGroup', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'] },
      { sid: 'ListRawVersions', actions: ['s3:GetBucketVersioning', 's3:ListBucket', 's3:ListBucketVersions'] },
      { sid: 'ListSilverBucket', actions: ['s3:ListBucket'] },
      { sid: 'ListGoldBucket', actions: ['s3:ListBucket'] },
      { sid: 'ReadGoldObjects', actions: ['s3:GetObject'] },
      { sid: 'InvokeIngestion', actions: ['lambda:InvokeFunction'] },
      { sid: 'SendGoldJobs', actions: ['sqs:SendMessage'] },
    ]);
  });
});
