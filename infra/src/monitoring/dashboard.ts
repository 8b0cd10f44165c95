import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { METRIC } from '@lakehouse/contract';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { pipelineMetricQuery, type WatchedPipeline } from './watched-pipeline';

export interface PipelineDashboardProps extends WatchedPipeline {
  alarmArns: string[];
}

const WIDTH = 12;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard named after the ingestion function: the files and
 * rows each dataset takes in and puts out, rejects and quarantines, durations,
 * gold lag and queue depths, chunk state machine executions, and the state of every alarm.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const { vars, ingest, gold } = props;
    const region = vars.awsRegion.stringValue;
    const service = ingest.functionName;
    /** A chart of Metrics Insights queries over the handler's metrics, one line per dataset. */
    const byDataset = (title: string, series: Array<[label: string, metric: string]>, stat = 'SUM') => ({
      title,
      region,
      view: 'timeSeries',
      period: 300,
      metrics: series.map(([label, metric], index) => [
        { id: `q${index}`, label, expression: pipelineMetricQuery(`${stat}(${metric})`, service, true) },
      ]),
    });
    const lambda = (metricName: string, stat: string) =>
      [ingest, gold].map((fn) => ['AWS/Lambda', metricName, 'FunctionName', fn.functionName, { stat }]);
    const queues = (metricName: string) =>
      [props.goldQueue, props.goldDeadLetterQueue, props.failedEvents].map((queue) => [
        'AWS/SQS',
        metricName,
        'QueueName',
        queue.name,
        { stat: 'Maximum' },
      ]);

    const charts = [
      byDataset('Files in, by dataset: ingested and quarantined', [
        ['ingested', METRIC.filesIngested],
        ['quarantined', METRIC.filesQuarantined],
      ]),
      byDataset('Rows out, by dataset: to silver and rejected', [
        ['to silver', METRIC.silverRows],
        ['rejected', METRIC.rejectedRows],
      ]),
      byDataset('Rejected rows, by dataset', [['rejected', METRIC.rejectedRows]]),
      byDataset('Quarantined files, by dataset', [['quarantined', METRIC.filesQuarantined]]),
      byDataset('Ingestion time per file (ms), by dataset', [['average', METRIC.ingestMilliseconds]], 'AVG'),
      {
        title: 'Function durations (ms): p50, p99, max',
        region,
        view: 'timeSeries',
        period: 300,
        metrics: [...lambda('Duration', 'p50'), ...lambda('Duration', 'p99'), ...lambda('Duration', 'Maximum')],
      },
      {
        title: 'Invocations, errors, throttles',
        region,
        view: 'timeSeries',
        period: 300,
        stat: 'Sum',
        metrics: [...lambda('Invocations', 'Sum'), ...lambda('Errors', 'Sum'), ...lambda('Throttles', 'Sum')],
      },
      {
        title: 'Gold lag: age of the oldest gold job (s)',
        region,
        view: 'timeSeries',
        period: 60,
        metrics: [['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', props.goldQueue.name, { stat: 'Maximum' }]],
        annotations: { horizontal: [{ label: 'alarm', value: vars.goldLagAlarmSeconds.numberValue }] },
      },
      {
        title: 'Files in chunks: state machine executions started, succeeded, failed, timed out',
        region,
        view: 'timeSeries',
        period: 300,
        metrics: ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'].map(
          (metricName) => ['AWS/States', metricName, 'StateMachineArn', props.chunkStateMachineArn, { stat: 'Sum' }],
        ),
      },
      {
        title: 'Queue depths: gold jobs, gold dead letters, failed events',
        region,
        view: 'timeSeries',
        period: 60,
        metrics: queues('ApproximateNumberOfMessagesVisible'),
      },
    ];
    const widgets = [
      {
        type: 'alarm',
        x: 0,
        y: 0,
        width: 2 * WIDTH,
        height: 3,
        properties: { title: 'Alarms', alarms: props.alarmArns },
      },
      ...charts.map((properties, index) => ({
        type: 'metric',
        x: (index % 2) * WIDTH,
        y: 3 + Math.floor(index / 2) * HEIGHT,
        width: WIDTH,
        height: HEIGHT,
        properties,
      })),
    ];

    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: vars.lambdaName.stringValue,
      dashboardBody: Fn.jsonencode({ widgets }),
    });
  }
}
