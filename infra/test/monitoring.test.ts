// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { METRIC, METRICS_NAMESPACE } from '@lakehouse/contract';
import { Testing } from 'cdktf';
import { ALARMS, DURATION_ALARM_PERCENT } from '../src/monitoring/alarms';
import { type Json, type Synthesized, single, synthLakehouse } from './support/synth';

Testing.setupJest();

describe('operations: alarms, their topic, the dashboard, concurrency and tracing', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthLakehouse();
  });

  const topic = () => single(s.json, 'aws_sns_topic', 'alarm-topic');
  const key = () => single(s.json, 'aws_kms_key', 'alarm-topic_key');
  const fn = (name: 'ingest' | 'gold') => single(s.json, 'aws_lambda_function', `ingestion_${name}_function`);
  const queue = (prefix: string) => single(s.json, 'aws_sqs_queue', prefix);
  const alarm = (suffix: string) => single(s.json, 'aws_cloudwatch_metric_alarm', `alarms_${suffix}_`).config;

  describe('the alarm topic', () => {
    it('is <lambda_name>-alarms, encrypted with a rotating key CloudWatch of this account may use', () => {
      expect(topic().config).toEqual({ name: '${var.lambda_name}-alarms', kms_master_key_id: key().ref('arn') });
      expect(s.synth).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
      const statements = JSON.parse(key().config.policy).Statement as Json[];
      expect(statements.find((st) => st.Sid === 'CloudWatchAlarmsEncrypt')).toEqual({
        Sid: 'CloudWatchAlarmsEncrypt',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.current.account_id}' } },
      });
    });

    it('takes messages only from CloudWatch alarms of this account, and only over TLS', () => {
      const policy = single(s.json, 'aws_sns_topic_policy', 'alarm-topic_policy').config;
      expect(policy.arn).toBe(topic().ref('arn'));
      const statements = JSON.parse(policy.policy).Statement as Json[];
      expect(statements).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.current.account_id}' } },
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Principal: '*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]);
    });

    it('subscribes alarm_email only when it is set (off by default)', () => {
      expect(s.json.variable.alarm_email).toMatchObject({ type: 'string', default: '' });
      expect(single(s.json, 'aws_sns_topic_subscription', 'alarm-topic_email').config).toEqual({
        count: '${(length(var.alarm_email) >= 1) ? 1 : 0}',
        topic_arn: topic().ref('arn'),
        protocol: 'email',
        endpoint: '${var.alarm_email}',
      });
    });
  });

  describe('the alarms', () => {
    const suffixes = Object.values(ALARMS).map((spec) => spec.suffix);

    it('are the nine the runbook explains, named <lambda_name>-<what>', () => {
      expect(suffixes.sort()).toEqual(
        [
          'chunk-executions-failed',
          'duration-near-timeout',
          'failed-events',
          'gold-dead-letters',
          'gold-lag',
          'ingestion-errors',
          'left-behind',
          'quarantines',
          'throttles',
        ].sort(),
      );
      expect(Object.keys(s.json.resource.aws_cloudwatch_metric_alarm)).toHaveLength(suffixes.length);
      for (const suffix of suffixes) expect(alarm(suffix).alarm_name).toBe(`\${var.lambda_name}-${suffix}`);
    });

    it.each(Object.values(ALARMS).map((spec) => spec.suffix))(
      '%s notifies the topic when it fires and when it clears; an idle pipeline never alarms',
      (suffix) => {
        expect(alarm(suffix)).toMatchObject({
          alarm_actions: [topic().ref('arn')],
          ok_actions: [topic().ref('arn')],
          // Between two reconciliation passes there is no data: left-behind keeps its state.
          treat_missing_data: suffix === 'left-behind' ? 'ignore' : 'notBreaching',
          evaluation_periods: 1,
        });
        expect(alarm(suffix).alarm_description).toContain(`docs/operations.md#${suffix}`);
      },
    );

    it('ingestion-errors: any failed invocation of the ingestion function', () => {
      expect(alarm('ingestion-errors')).toMatchObject({
        namespace: 'AWS/Lambda',
        metric_name: 'Errors',
        dimensions: { FunctionName: fn('ingest').ref('function_name') },
        statistic: 'Sum',
        threshold: 1,
        comparison_operator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('throttles: any throttled invocation of either function', () => {
      const [ingest, gold, sum] = alarm('throttles').metric_query as Json[];
      expect(ingest?.metric).toMatchObject({
        metric_name: 'Throttles',
        dimensions: { FunctionName: fn('ingest').ref('function_name') },
      });
      expect(gold?.metric).toMatchObject({
        metric_name: 'Throttles',
        dimensions: { FunctionName: fn('gold').ref('function_name') },
      });
      expect(sum).toMatchObject({ expression: 'ingest + gold', return_data: true });
    });

    it('duration-near-timeout: the longest invocation against its own function timeout', () => {
      const queries = alarm('duration-near-timeout').metric_query as Json[];
      expect(queries.slice(0, 2).map((q) => q.metric.stat)).toEqual(['Maximum', 'Maximum']);
      expect(queries[2]?.expression).toBe(
        'MAX([100 * ingest / (${var.timeout} * 1000), 100 * gold / (${var.gold_timeout} * 1000)])',
      );
      expect(alarm('duration-near-timeout').threshold).toBe(DURATION_ALARM_PERCENT);
    });

    it.each([
      ['failed-events', 'ingestion_failed-events', 'ApproximateNumberOfMessagesVisible', 1],
      ['gold-dead-letters', 'ingestion_gold-queue_dead-letters', 'ApproximateNumberOfMessagesVisible', 1],
      ['gold-lag', 'ingestion_gold-queue_jobs', 'ApproximateAgeOfOldestMessage', '${var.gold_lag_alarm_seconds}'],
    ])('%s: %s %s at or above %s', (suffix, queuePrefix, metricName, threshold) => {
      expect(alarm(suffix)).toMatchObject({
        namespace: 'AWS/SQS',
        metric_name: metricName,
        dimensions: { QueueName: queue(queuePrefix).ref('name') },
        statistic: 'Maximum',
        threshold,
      });
    });

    it('left-behind: what the scheduled reconciliation counts (off by default, so no data until enabled)', () => {
      const reconcile = single(s.json, 'aws_lambda_function', 'reconciliation_reconcile_function').ref('function_name');
      const [raw, gold, sum] = alarm('left-behind').metric_query as Json[];
      for (const [query, metricName] of [
        [raw, 'RawObjectsLeftBehind'],
        [gold, 'SilverFilesNotInGold'],
      ] as const) {
        expect(query?.metric).toEqual({
          namespace: METRICS_NAMESPACE,
          metric_name: metricName,
          dimensions: { service: reconcile },
          period: 3600,
          stat: 'Maximum',
        });
      }
      expect(sum).toMatchObject({ expression: 'raw + gold', return_data: true });
      expect(alarm('left-behind').threshold).toBe(1);
    });

    it("quarantines: the handler's own FilesQuarantined metric, summed over this stack's datasets", () => {
      const [query] = alarm('quarantines').metric_query as Json[];
      expect(query?.expression).toBe(
        `SELECT SUM(${METRIC.filesQuarantined}) FROM SCHEMA(${METRICS_NAMESPACE}, dataset, service) WHERE service = '${fn('ingest').ref('function_name')}'`,
      );
      expect(alarm('quarantines').threshold).toBe(1);
    });
  });

  describe('the dashboard', () => {
    const body = () => single(s.json, 'aws_cloudwatch_dashboard', 'dashboard').config.dashboard_body as string;

    it('is named after the ingestion function and shows the state of every alarm', () => {
      expect(s.synth).toHaveResourceWithProperties(CloudwatchDashboard, { dashboard_name: '${var.lambda_name}' });
      for (const address of Object.keys(s.json.resource.aws_cloudwatch_metric_alarm)) {
        expect(body()).toContain(`aws_cloudwatch_metric_alarm.${address}.arn`);
      }
    });

    it('charts files, rows, rejects, quarantines and time per dataset from the handler metrics', () => {
      for (const metric of Object.values(METRIC).filter((m) => m !== METRIC.transientFailures)) {
        expect(body()).toContain(`(${metric}) FROM SCHEMA(${METRICS_NAMESPACE}, dataset, service)`);
      }
      expect(body()).toContain('GROUP BY dataset');
    });

    it('charts durations, gold lag and the three queue depths', () => {
      for (const name of ['ingest', 'gold'] as const)
        expect(body()).toContain(fn(name).ref('function_name').slice(2, -1));
      expect(body()).toContain('"Duration"');
      expect(body()).toContain('"ApproximateAgeOfOldestMessage"');
      for (const prefix of [
        'ingestion_gold-queue_jobs',
        'ingestion_gold-queue_dead-letters',
        'ingestion_failed-events',
      ]) {
        expect(body()).toContain(queue(prefix).ref('name').slice(2, -1));
      }
    });

    it('is valid JSON once Terraform encodes it: no string in it holds a double quote', () => {
      // Inside jsonencode(...) an unescaped quote would end the HCL string (pnpm synth:hcl parses the whole file).
      expect(body()).not.toMatch(/\("|"\)/);
    });
  });

  describe('the functions', () => {
    it.each([
      ['ingest', 'reserved_concurrency'],
      ['gold', 'gold_reserved_concurrency'],
    ] as const)('%s: reserved concurrency from var.%s, -1 (none) by default, never 0', (name, variable) => {
      expect(fn(name).config.reserved_concurrent_executions).toBe(`\${var.${variable}}`);
      expect(s.json.variable[variable]).toMatchObject({ type: 'number', default: -1 });
      expect(s.json.variable[variable].validation[0].condition).toBe(
        `\${var.${variable} == -1 || var.${variable} >= 1}`,
      );
    });

    it.each(['ingest', 'gold'] as const)('%s: X-Ray tracing, Active by default', (name) => {
      expect(fn(name).config.tracing_config).toEqual({ mode: '${var.tracing_mode}' });
      expect(s.json.variable.tracing_mode).toMatchObject({ type: 'string', default: 'Active' });
    });

    it.each(['ingest', 'gold'] as const)(
      '%s: may send trace segments, in a policy of its own ("*" is the only resource X-Ray accepts)',
      (name) => {
        const tracing = single(s.json, 'aws_iam_role_policy', `ingestion_${name}_execution_tracing`);
        expect(JSON.parse(tracing.config.policy).Statement).toEqual([
          {
            Sid: 'SendTraces',
            Effect: 'Allow',
            Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
            Resource: ['*'],
          },
        ]);
        expect(fn(name).config.depends_on).toContain(tracing.address);
      },
    );
  });

  it('outputs the alarm topic and the dashboard URL', () => {
    expect(s.json.output.alarm_topic_arn.value).toBe(topic().ref('arn'));
    const dashboardName = single(s.json, 'aws_cloudwatch_dashboard', 'dashboard').ref('dashboard_name');
    expect(s.json.output.dashboard_url.value).toBe(
      `https://\${var.aws_region}.console.aws.amazon.com/cloudwatch/home?region=\${var.aws_region}#dashboards/dashboard/${dashboardName}`,
    );
  });
});
