import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import {
  CHUNK_COMMAND,
  CHUNK_PLAN_FILE,
  CHUNKS_PREFIX,
  chunkStateMachineDefinition,
  ENV,
  SCHEMA_PREFIX,
} from '@lakehouse/contract';
import { Fn, Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import type { GoldQueue } from './gold-queue';
import { jsonDocument } from './json-document';
import { keyPolicy } from './key-policy';
import { type PolicyStatement, policyDocument } from './permissions';
import { PipelineFunction } from './pipeline-function';
import type { StorageConstruct } from './storage';
import type { StackVariables } from './variables';

export interface ChunkStateMachineProps {
  vars: StackVariables;
  storage: StorageConstruct;
  imageUri: string;
  goldQueue: GoldQueue;
  /** The ingestion function's name: the chunk function's log lines and metrics carry it (one dashboard). */
  ingestFunctionName: string;
  accountId: string;
  partition: string;
  region: string;
}

/** Stands in for MaxConcurrency in the rendered definition until the variable's reference replaces it. */
const MAX_CONCURRENCY_SLOT = 987_654_321;

/**
 * Files beyond one invocation, on AWS Step Functions: a STANDARD state
 * machine whose Distributed Map reads a file's plan from S3 and runs every
 * chunk in the chunk function (index.chunkHandler, the pipeline image) at
 * most `chunk_max_concurrency` at once, then one commit (or, when a chunk
 * fails for good, the fail step). Its definition is the contract's
 * `chunkStateMachineDefinition`, which the app's tests run step by step.
 * Roles are least privilege: the state machine may invoke only the chunk
 * function, read only plan objects, and start, describe and stop only its own
 * executions (the map's child executions); `bindStarter` lets the ingestion
 * function start it.
 */
export class ChunkStateMachine extends Construct {
  readonly fn: PipelineFunction;
  readonly stateMachine: SfnStateMachine;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly logKey: KmsKey;
  readonly name: string;

  constructor(scope: Construct, id: string, props: ChunkStateMachineProps) {
    super(scope, id);
    const { vars, storage, accountId, partition, region } = props;
    const lambdaName = vars.lambdaName.stringValue;
    this.name = `${lambdaName}-chunks`;
    const silver = storage.bucket('silver');

    this.fn = new PipelineFunction(this, 'chunk', {
      functionName: `${lambdaName}_chunks`,
      roleName: 'role_lambda_duckdb_chunks',
      policyName: 'policy_lambda_duckdb_chunks',
      imageUri: props.imageUri,
      command: [CHUNK_COMMAND],
      timeout: vars.timeout.numberValue,
      // None reserved: the map's MaxConcurrency bounds the chunks of a file.
      reservedConcurrency: -1,
      vars,
    });
    // A chunked file's outcome line and metrics count as the ingestion function's: one dashboard, one set of alarms.
    this.fn.addEnvironment(ENV.serviceName, props.ingestFunctionName);
    // Chunk: read the raw object's ranges (by version); write its parts. Commit: read and remove the parts,
    // read and rewrite the dataset's schema, publish silver, queue the gold job.
    storage.grantRead(this.fn, 'raw');
    storage.grantWrite(this.fn, 'silver');
    this.fn.grant({
      sid: 'ReadAndRemoveChunkParts',
      actions: ['s3:GetObject', 's3:DeleteObject'],
      resources: [`${silver.arn}/${CHUNKS_PREFIX}/*`],
    });
    this.fn.grant({
      sid: 'ReadSilverSchemas',
      actions: ['s3:GetObject'],
      resources: [`${silver.arn}/${SCHEMA_PREFIX}/*`],
    });
    storage.grantList(this.fn, 'silver');
    storage.bindName(this.fn, 'silver');
    storage.bindName(this.fn, 'gold');
    props.goldQueue.bindProducer(this.fn);

    this.logKey = new KmsKey(this, 'log-key', {
      description: `Encrypts the ${this.name} state machine's execution logs`,
      enableKeyRotation: true,
      deletionWindowInDays: 7,
      policy: keyPolicy({ partition, accountId }, [
        {
          Sid: 'CloudWatchLogsEncryptsThisLogGroup',
          Effect: 'Allow',
          Principal: { Service: `logs.${region}.amazonaws.com` },
          Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          Resource: '*',
          Condition: {
            ArnEquals: {
              'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${accountId}:log-group:${this.logGroupName}`,
            },
          },
        },
      ]),
    });
    new KmsAlias(this, 'log-key-alias', { name: `alias/${this.name}-logs`, targetKeyId: this.logKey.keyId });
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: this.logGroupName,
      retentionInDays: vars.logRetentionDays.numberValue,
      kmsKeyId: this.logKey.arn,
    });

    const arn = (resource: string) => `arn:${partition}:states:${region}:${accountId}:${resource}`;
    this.role = new IamRole(this, 'role', {
      name: 'role_sfn_duckdb_chunks',
      description: 'Execution role of the lakehouse chunk state machine (least privilege)',
      assumeRolePolicy: jsonDocument({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'states.amazonaws.com' },
            Action: 'sts:AssumeRole',
            // Only Step Functions acting for this account: no confused deputy.
            Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
          },
        ],
      }),
    });
    const statements: PolicyStatement[] = [
      { sid: 'InvokeChunkFunction', actions: ['lambda:InvokeFunction'], resources: [this.fn.arn] },
      {
        sid: 'ReadChunkPlans',
        actions: ['s3:GetObject'],
        resources: [`${silver.arn}/${CHUNKS_PREFIX}/*/${CHUNK_PLAN_FILE}`],
      },
      // A Distributed Map runs its items as child executions of its own state machine, named from it.
      {
        sid: 'StartMapChildExecutions',
        actions: ['states:StartExecution'],
        resources: [arn(`stateMachine:${this.name}`)],
      },
      {
        sid: 'WatchMapChildExecutions',
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [arn(`execution:${this.name}/*`)],
      },
    ];
    const policy = new IamRolePolicy(this, 'policy', {
      name: 'policy_sfn_duckdb_chunks',
      role: this.role.id,
      policy: policyDocument(statements),
    });
    // Log delivery and X-Ray accept no resource-level permissions: "*" is the only resource they take.
    const deliveryPolicy = new IamRolePolicy(this, 'logs-and-traces', {
      name: 'policy_sfn_duckdb_chunks_logs_xray',
      role: this.role.id,
      policy: policyDocument([
        {
          sid: 'DeliverExecutionLogs',
          actions: [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:UpdateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:DescribeResourcePolicies',
            'logs:DescribeLogGroups',
          ],
          resources: ['*'],
        },
        {
          sid: 'SendTraces',
          actions: [
            'xray:PutTraceSegments',
            'xray:PutTelemetryRecords',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
          ],
          resources: ['*'],
        },
      ]),
    });

    const definition = chunkStateMachineDefinition({
      chunkFunctionArn: this.fn.arn,
      maxConcurrency: MAX_CONCURRENCY_SLOT,
    });
    this.stateMachine = new SfnStateMachine(this, 'state-machine', {
      name: this.name,
      type: 'STANDARD',
      roleArn: this.role.arn,
      // A number where the JSON needs one: the variable's reference, unquoted, in the rendered template.
      definition: jsonDocument(definition).replace(
        String(MAX_CONCURRENCY_SLOT),
        Token.asString(vars.chunkMaxConcurrency.numberValue),
      ),
      loggingConfiguration: {
        logDestination: `${this.logGroup.arn}:*`,
        level: 'ERROR',
        includeExecutionData: true,
      },
      tracingConfiguration: {
        enabled: Token.asAny(Fn.conditional(Op.eq(vars.tracingMode.stringValue, 'Active'), true, false)),
      },
      // Step Functions checks, when it creates the machine, that its role may deliver the logs.
      dependsOn: [policy, deliveryPolicy, this.logGroup],
    });
  }

  /** Step Functions' vended logs go to a group under /aws/vendedlogs/ (their resource policy stays small). */
  get logGroupName(): string {
    return `/aws/vendedlogs/states/${this.name}`;
  }

  get arn(): string {
    return this.stateMachine.arn;
  }

  /**
   * The ingestion function starts one execution per file above the threshold: the state machine's ARN
   * and the threshold in its environment, StartExecution on this state machine only, and
   * ListExecutions on it (a second event for a file whose execution runs starts none).
   */
  bindStarter(fn: PipelineFunction, thresholdMb: number): void {
    fn.addEnvironment(ENV.chunkStateMachineArn, this.arn);
    fn.addEnvironment(ENV.chunkThresholdMb, Token.asString(thresholdMb));
    fn.grant({
      sid: 'StartChunkExecutions',
      actions: ['states:StartExecution', 'states:ListExecutions'],
      resources: [this.arn],
    });
  }
}
