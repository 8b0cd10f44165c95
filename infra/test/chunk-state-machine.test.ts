// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { CHUNK_COMMAND, CHUNK_FINAL_ERROR, CHUNK_RETRIES, CHUNK_STEP, ENV } from '@lakehouse/contract';
import { ALARMS } from '../src/monitoring/alarms';
import { type Json, type Synthesized, single, synthLakehouse } from './support/synth';

const ARN_PREFIX =
  'arn:${data.aws_partition.partition.partition}:states:${var.aws_region}:${data.aws_caller_identity.current.account_id}';

describe('the chunk state machine (files beyond one invocation)', () => {
  let s: Synthesized;
  let machine: Json;
  let definition: Json;
  beforeAll(() => {
    s = synthLakehouse();
    machine = single(s.json, 'aws_sfn_state_machine', 'chunks_').config;
    // MaxConcurrency is the variable's reference, unquoted: Terraform renders it as the JSON number.
    expect(machine.definition).toContain('"MaxConcurrency": ${var.chunk_max_concurrency},');
    definition = JSON.parse(machine.definition.replace('${var.chunk_max_concurrency}', '7'));
  });

  const chunkFunction = () => single(s.json, 'aws_lambda_function', 'chunks_chunk_function');
  const silverArn = () => single(s.json, 'aws_s3_bucket', 'storage_silver_').ref('arn');
  const policy = (name: string) =>
    JSON.parse(single(s.json, 'aws_iam_role_policy', name).config.policy).Statement as Array<{
      Sid: string;
      Action: string[];
      Resource: string[];
    }>;

  describe('its definition', () => {
    const map = () => definition.States.Chunks;
    const chunk = () => map().ItemProcessor.States.Chunk;

    it('is a STANDARD state machine that starts with a Distributed Map of STANDARD child executions', () => {
      expect(machine).toMatchObject({ name: '${var.lambda_name}-chunks', type: 'STANDARD' });
      expect(definition.StartAt).toBe('Chunks');
      expect(map()).toMatchObject({
        Type: 'Map',
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
        MaxConcurrency: 7,
      });
    });

    it('reads the items from the plan object in S3, and gives each the shared context', () => {
      expect(map().ItemReader).toEqual({
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.plan.bucket', 'Key.$': '$.plan.key' },
      });
      expect(map().ItemSelector).toEqual({ 'context.$': '$.context', 'item.$': '$$.Map.Item.Value' });
    });

    it('runs each item in the chunk function, retrying faults with backoff and jitter, never a final error', () => {
      expect(chunk()).toMatchObject({
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: {
          FunctionName: chunkFunction().ref('arn'),
          Payload: { step: CHUNK_STEP.chunk, 'context.$': '$.context', 'item.$': '$.item' },
        },
        // A few bytes per child, whatever the number of chunks: no result nears the 256 KB payload limit.
        ResultSelector: { 'index.$': '$.Payload.index' },
      });
      expect(chunk().Retry).toEqual([
        { ErrorEquals: [CHUNK_FINAL_ERROR], MaxAttempts: 0 },
        {
          ErrorEquals: ['States.ALL'],
          IntervalSeconds: 5,
          MaxAttempts: CHUNK_RETRIES,
          BackoffRate: 2,
          MaxDelaySeconds: 300,
          JitterStrategy: 'FULL',
        },
      ]);
    });

    it('records a chunk that failed for good, then fails its child execution (and with it the map)', () => {
      expect(chunk().Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordChunkFailure' },
      ]);
      const record = map().ItemProcessor.States.RecordChunkFailure;
      expect(record.Parameters.Payload).toEqual({
        step: CHUNK_STEP.recordFailure,
        'context.$': '$.context',
        'item.$': '$.item',
        'error.$': '$.error',
        attempts: CHUNK_RETRIES + 1,
      });
      expect(record.Next).toBe('ChunkFailed');
      expect(map().ItemProcessor.States.ChunkFailed.Type).toBe('Fail');
    });

    it('commits after the map, with its own retries; the map catches a failed chunk into the fail step', () => {
      expect(map()).toMatchObject({
        ResultPath: null,
        Next: 'Commit',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.mapError', Next: 'QuarantineFile' }],
      });
      for (const [state, step] of [
        ['Commit', CHUNK_STEP.commit],
        ['QuarantineFile', CHUNK_STEP.fail],
      ] as const) {
        expect(definition.States[state]).toMatchObject({
          Type: 'Task',
          Parameters: { FunctionName: chunkFunction().ref('arn'), Payload: { step, 'context.$': '$.context' } },
          OutputPath: '$.Payload',
          End: true,
        });
        expect(definition.States[state].Retry[0]).toMatchObject({
          ErrorEquals: ['States.ALL'],
          JitterStrategy: 'FULL',
        });
      }
    });
  });

  describe('its role', () => {
    it('is assumed by Step Functions for this account only', () => {
      const role = single(s.json, 'aws_iam_role', 'chunks_role');
      expect(JSON.parse(role.config.assume_role_policy).Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.current.account_id}' } },
        },
      ]);
      expect(machine.role_arn).toBe(role.ref('arn'));
    });

    it('invokes only the chunk function, reads only plan objects, runs and watches only its own child executions', () => {
      expect(policy('chunks_policy_')).toEqual([
        {
          Sid: 'InvokeChunkFunction',
          Effect: 'Allow',
          Action: ['lambda:InvokeFunction'],
          Resource: [chunkFunction().ref('arn')],
        },
        {
          Sid: 'ReadChunkPlans',
          Effect: 'Allow',
          Action: ['s3:GetObject'],
          Resource: [`${silverArn()}/_chunks/*/plan.json`],
        },
        {
          Sid: 'StartMapChildExecutions',
          Effect: 'Allow',
          Action: ['states:StartExecution'],
          Resource: [`${ARN_PREFIX}:stateMachine:\${var.lambda_name}-chunks`],
        },
        {
          Sid: 'WatchMapChildExecutions',
          Effect: 'Allow',
          Action: ['states:DescribeExecution', 'states:StopExecution'],
          Resource: [`${ARN_PREFIX}:execution:\${var.lambda_name}-chunks/*`],
        },
      ]);
    });

    it('has "*" only for log delivery and X-Ray, which take no other resource', () => {
      expect(policy('chunks_logs-and-traces')).toEqual([
        expect.objectContaining({ Sid: 'DeliverExecutionLogs', Resource: ['*'] }),
        expect.objectContaining({
          Sid: 'SendTraces',
          Action: [
            'xray:PutTraceSegments',
            'xray:PutTelemetryRecords',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
          ],
          Resource: ['*'],
        }),
      ]);
      expect(policy('chunks_logs-and-traces')[0]?.Action.every((action) => action.startsWith('logs:'))).toBe(true);
    });
  });

  it('logs errors to a log group encrypted with its own key, traced as tracing_mode says', () => {
    const logs = single(s.json, 'aws_cloudwatch_log_group', 'chunks_logs');
    const key = single(s.json, 'aws_kms_key', 'chunks_log-key');
    expect(logs.config).toMatchObject({
      name: '/aws/vendedlogs/states/${var.lambda_name}-chunks',
      kms_key_id: key.ref('arn'),
      retention_in_days: '${var.log_retention_days}',
    });
    expect(key.config.enable_key_rotation).toBe(true);
    const logsStatement = JSON.parse(key.config.policy).Statement[1];
    expect(logsStatement).toMatchObject({
      Principal: { Service: 'logs.${var.aws_region}.amazonaws.com' },
      Condition: {
        ArnEquals: {
          'kms:EncryptionContext:aws:logs:arn':
            'arn:${data.aws_partition.partition.partition}:logs:${var.aws_region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/vendedlogs/states/${var.lambda_name}-chunks',
        },
      },
    });
    expect(machine.logging_configuration).toEqual({
      log_destination: `${logs.ref('arn')}:*`,
      level: 'ERROR',
      include_execution_data: true,
    });
    expect(machine.tracing_configuration).toEqual({ enabled: '${(var.tracing_mode == "Active") ? true : false}' });
  });

  describe('the chunk function', () => {
    it('runs index.chunkHandler of the image; its lines and metrics count as the ingestion function', () => {
      expect(chunkFunction().config).toMatchObject({
        function_name: '${var.lambda_name}_chunks',
        image_config: { command: [CHUNK_COMMAND] },
        timeout: '${var.timeout}',
      });
      expect(chunkFunction().config.environment.variables).toMatchObject({
        [ENV.serviceName]: '${var.lambda_name}',
        [ENV.silverBucket]: single(s.json, 'aws_s3_bucket', 'storage_silver_').ref('bucket'),
        [ENV.goldQueueUrl]: single(s.json, 'aws_sqs_queue', 'ingestion_gold-queue_jobs').ref('url'),
      });
    });

    it('reads raw, writes silver, reads and removes only chunk parts, reads only schemas, sends gold jobs', () => {
      const byResource: Record<string, string[]> = {};
      for (const statement of policy('chunks_chunk_execution_policy')) {
        for (const resource of statement.Resource) {
          byResource[resource] = [...(byResource[resource] ?? []), ...statement.Action].sort();
        }
      }
      const raw = single(s.json, 'aws_s3_bucket', 'storage_raw_').ref('arn');
      expect(byResource).toEqual({
        [`${raw}/*`]: ['s3:GetObject', 's3:GetObjectVersion'],
        [`${silverArn()}/*`]: ['s3:AbortMultipartUpload', 's3:PutObject'],
        [`${silverArn()}/_chunks/*`]: ['s3:DeleteObject', 's3:GetObject'],
        [`${silverArn()}/_schema/*`]: ['s3:GetObject'],
        [silverArn()]: ['s3:ListBucket'],
        [single(s.json, 'aws_sqs_queue', 'ingestion_gold-queue_jobs').ref('arn')]: ['sqs:SendMessage'],
        [`${single(s.json, 'aws_cloudwatch_log_group', 'chunks_chunk_logs').ref('arn')}:*`]: [
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ],
      });
    });
  });

  it('alarms when an execution fails or times out', () => {
    const alarm = Object.values(s.json.resource.aws_cloudwatch_metric_alarm as Json).find(
      (a) => a.alarm_name === `\${var.lambda_name}-${ALARMS.chunkExecutionsFailed.suffix}`,
    );
    const [failed, timedOut, sum] = alarm.metric_query as Json[];
    for (const [query, metricName] of [
      [failed, 'ExecutionsFailed'],
      [timedOut, 'ExecutionsTimedOut'],
    ] as const) {
      expect(query.metric).toMatchObject({
        namespace: 'AWS/States',
        metric_name: metricName,
        dimensions: { StateMachineArn: single(s.json, 'aws_sfn_state_machine', 'chunks_').ref('arn') },
        stat: 'Sum',
      });
    }
    expect(sum).toMatchObject({ expression: 'failed + timedout', return_data: true });
    expect(alarm).toMatchObject({ threshold: 1, comparison_operator: 'GreaterThanOrEqualToThreshold' });
  });

  it('charts its executions on the dashboard', () => {
    const body = single(s.json, 'aws_cloudwatch_dashboard', 'dashboard').config.dashboard_body as string;
    const arn = single(s.json, 'aws_sfn_state_machine', 'chunks_').ref('arn').slice(2, -1);
    for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(body).toContain(`"AWS/States", "${metric}", "StateMachineArn", ${arn}`);
    }
  });

  it('takes its threshold and concurrency from two variables', () => {
    expect(s.json.variable.chunk_threshold_mb).toMatchObject({ type: 'number', default: 512 });
    expect(s.json.variable.chunk_max_concurrency).toMatchObject({ type: 'number', default: 20 });
    expect(s.json.variable.chunk_threshold_mb.validation[0].condition).toBe(
      '${var.chunk_threshold_mb >= 16 && var.chunk_threshold_mb <= 10240}',
    );
    expect(s.json.variable.chunk_max_concurrency.validation[0].condition).toBe(
      '${var.chunk_max_concurrency >= 1 && var.chunk_max_concurrency <= 10000}',
    );
    expect(s.json.output.chunk_state_machine_arn.value).toBe(
      single(s.json, 'aws_sfn_state_machine', 'chunks_').ref('arn'),
    );
  });
});
