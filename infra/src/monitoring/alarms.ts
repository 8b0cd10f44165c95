import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmConfig,
  type CloudwatchMetricAlarmMetricQuery,
} from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { METRIC, METRICS_NAMESPACE, RECONCILE_METRIC } from '@lakehouse/contract';
import { Construct } from 'constructs';
import type { PipelineFunction } from '../pipeline-function';
import { pipelineMetricQuery, type WatchedPipeline } from './watched-pipeline';

/** Every alarm looks at 5-minute periods: short enough to page on a live problem, long enough to be cheap. */
export const ALARM_PERIOD_SECONDS = 300;
/** Percent of the timeout at which an invocation's duration alarms. */
export const DURATION_ALARM_PERCENT = 90;
/** The scheduled reconciliation runs hourly by default: one data point per hour. */
export const RECONCILE_ALARM_PERIOD_SECONDS = 3600;

export interface PipelineAlarmsProps extends WatchedPipeline {
  /** The SNS topic notified on ALARM and on OK. */
  topicArn: string;
}

/** What an alarm means and what to do: its description in CloudWatch, the runbook in docs/operations.md. */
export interface AlarmSpec {
  /** Suffix of the alarm name: <lambda_name>-<suffix>. */
  suffix: string;
  description: string;
}

/** The alarms, by what they watch; docs/operations.md is the runbook of each. */
export const ALARMS = {
  ingestionErrors: {
    suffix: 'ingestion-errors',
    description:
      'The ingestion function failed an invocation: a fault a retry may fix (S3, network, memory). S3 retries it twice; what still fails goes to the failed-events queue. Runbook: docs/operations.md#ingestion-errors',
  },
  throttles: {
    suffix: 'throttles',
    description:
      'Lambda throttled an ingestion or gold invocation: concurrency is exhausted (account limit or reserved_concurrency). Events wait and are retried. Runbook: docs/operations.md#throttles',
  },
  durationNearTimeout: {
    suffix: 'duration-near-timeout',
    description: `An ingestion or gold invocation took ${DURATION_ALARM_PERCENT}% or more of its timeout: the next bigger file may time out. Runbook: docs/operations.md#duration-near-timeout`,
  },
  failedEvents: {
    suffix: 'failed-events',
    description:
      'S3 events failed all retries and wait in the failed-events queue: their raw objects have no silver output yet. Runbook: docs/operations.md#failed-events',
  },
  goldDeadLetters: {
    suffix: 'gold-dead-letters',
    description:
      'Gold jobs failed 5 times and moved to the gold dead-letter queue: gold misses those silver files. Runbook: docs/operations.md#gold-dead-letters',
  },
  goldLag: {
    suffix: 'gold-lag',
    description:
      'The oldest gold job has waited longer than gold_lag_alarm_seconds: gold is behind silver, often because a failing job blocks its dataset. Runbook: docs/operations.md#gold-lag',
  },
  leftBehind: {
    suffix: 'left-behind',
    description:
      'The scheduled reconciliation (reconcile_enabled) found raw objects with no outcome or silver files gold has not applied. Runbook: docs/operations.md#left-behind',
  },
  chunkExecutionsFailed: {
    suffix: 'chunk-executions-failed',
    description:
      'An execution of the chunk state machine failed or timed out: a file above chunk_threshold_mb has neither its silver output nor a quarantine record. Redrive it. Runbook: docs/operations.md#chunk-executions-failed',
  },
  quarantines: {
    suffix: 'quarantines',
    description:
      'Files were quarantined: they could not be read as their dataset (format, schema, size). Runbook: docs/operations.md#quarantines',
  },
} as const satisfies Record<string, AlarmSpec>;

type Condition = Pick<CloudwatchMetricAlarmConfig, 'threshold' | 'comparisonOperator'> &
  (
    | Pick<CloudwatchMetricAlarmConfig, 'namespace' | 'metricName' | 'dimensions' | 'statistic'>
    | { metricQuery: CloudwatchMetricAlarmMetricQuery[] }
  );

/**
 * The pipeline's alarms, each notifying the alarm topic when it fires and when
 * it clears. No data is not a problem (an idle pipeline emits nothing), so
 * missing data never alarms.
 */
export class PipelineAlarms extends Construct {
  readonly alarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const { vars, ingest, gold } = props;
    const lambdaMetric = (fn: PipelineFunction, metricName: string, stat: string, metricId: string) => ({
      id: metricId,
      metric: {
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: { FunctionName: fn.functionName },
        period: ALARM_PERIOD_SECONDS,
        stat,
      },
    });
    const queueDepth = (queue: SqsQueue, metricName: string) => ({
      namespace: 'AWS/SQS',
      metricName,
      dimensions: { QueueName: queue.name },
      statistic: 'Maximum',
    });
    const atLeast = (threshold: number) => ({
      threshold,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
    });

    this.alarm(props, ALARMS.ingestionErrors, {
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: ingest.functionName },
      statistic: 'Sum',
      ...atLeast(1),
    });
    this.alarm(props, ALARMS.throttles, {
      metricQuery: [
        lambdaMetric(ingest, 'Throttles', 'Sum', 'ingest'),
        lambdaMetric(gold, 'Throttles', 'Sum', 'gold'),
        { id: 'throttles', expression: 'ingest + gold', label: 'Throttled invocations', returnData: true },
      ],
      ...atLeast(1),
    });
    this.alarm(props, ALARMS.durationNearTimeout, {
      metricQuery: [
        lambdaMetric(ingest, 'Duration', 'Maximum', 'ingest'),
        lambdaMetric(gold, 'Duration', 'Maximum', 'gold'),
        {
          id: 'percent',
          // Duration is in ms, the timeouts in s: the longest invocation as a percentage of its function's timeout.
          expression: `MAX([100 * ingest / (${vars.timeout.numberValue} * 1000), 100 * gold / (${vars.goldTimeout.numberValue} * 1000)])`,
          label: 'Longest invocation, % of its timeout',
          returnData: true,
        },
      ],
      ...atLeast(DURATION_ALARM_PERCENT),
    });
    this.alarm(props, ALARMS.failedEvents, {
      ...queueDepth(props.failedEvents, 'ApproximateNumberOfMessagesVisible'),
      ...atLeast(1),
    });
    this.alarm(props, ALARMS.goldDeadLetters, {
      ...queueDepth(props.goldDeadLetterQueue, 'ApproximateNumberOfMessagesVisible'),
      ...atLeast(1),
    });
    this.alarm(props, ALARMS.goldLag, {
      ...queueDepth(props.goldQueue, 'ApproximateAgeOfOldestMessage'),
      ...atLeast(vars.goldLagAlarmSeconds.numberValue),
    });
    const executions = (metricName: string, metricId: string) => ({
      id: metricId,
      metric: {
        namespace: 'AWS/States',
        metricName,
        dimensions: { StateMachineArn: props.chunkStateMachineArn },
        period: ALARM_PERIOD_SECONDS,
        stat: 'Sum',
      },
    });
    this.alarm(props, ALARMS.chunkExecutionsFailed, {
      metricQuery: [
        executions('ExecutionsFailed', 'failed'),
        executions('ExecutionsTimedOut', 'timedout'),
        {
          id: 'ended',
          expression: 'failed + timedout',
          label: 'Chunk executions failed or timed out',
          returnData: true,
        },
      ],
      ...atLeast(1),
    });
    this.alarm(props, ALARMS.quarantines, {
      metricQuery: [
        {
          id: 'quarantined',
          expression: pipelineMetricQuery(`SUM(${METRIC.filesQuarantined})`, ingest.functionName),
          period: ALARM_PERIOD_SECONDS,
          label: 'Files quarantined',
          returnData: true,
        },
      ],
      ...atLeast(1),
    });
    // One data point per reconciliation pass: between passes the alarm keeps its state (missing data is ignored).
    const leftBehind = (metricName: string, metricId: string) => ({
      id: metricId,
      metric: {
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensions: { service: props.reconcile.functionName },
        period: RECONCILE_ALARM_PERIOD_SECONDS,
        stat: 'Maximum',
      },
    });
    this.alarm(
      props,
      ALARMS.leftBehind,
      {
        metricQuery: [
          leftBehind(RECONCILE_METRIC.rawObjectsLeftBehind, 'raw'),
          leftBehind(RECONCILE_METRIC.silverFilesNotInGold, 'gold'),
          { id: 'left', expression: 'raw + gold', label: 'Raw objects and silver files left behind', returnData: true },
        ],
        ...atLeast(1),
      },
      'ignore',
    );
  }

  private alarm(
    props: PipelineAlarmsProps,
    spec: AlarmSpec,
    condition: Condition,
    treatMissingData: 'notBreaching' | 'ignore' = 'notBreaching',
  ): void {
    const single = 'metricName' in condition ? { period: ALARM_PERIOD_SECONDS } : {};
    this.alarms.push(
      new CloudwatchMetricAlarm(this, spec.suffix, {
        alarmName: `${props.vars.lambdaName.stringValue}-${spec.suffix}`,
        alarmDescription: spec.description,
        evaluationPeriods: 1,
        treatMissingData,
        alarmActions: [props.topicArn],
        okActions: [props.topicArn],
        ...single,
        ...condition,
      }),
    );
  }
}
