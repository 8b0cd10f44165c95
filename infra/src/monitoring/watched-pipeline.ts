import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { METRIC_DIMENSIONS, METRICS_NAMESPACE } from '@lakehouse/contract';
import type { PipelineFunction } from '../pipeline-function';
import type { StackVariables } from '../variables';

/** What the alarms and the dashboard watch: the functions, the chunk state machine and the three queues. */
export interface WatchedPipeline {
  vars: StackVariables;
  ingest: PipelineFunction;
  gold: PipelineFunction;
  /** The scheduled reconciliation, which counts what the pipeline left behind. */
  reconcile: PipelineFunction;
  /** The state machine that runs files above chunk_threshold_mb in chunks. */
  chunkStateMachineArn: string;
  goldQueue: SqsQueue;
  goldDeadLetterQueue: SqsQueue;
  failedEvents: SqsQueue;
}

/** A Metrics Insights query of the handler's per-file metrics, one stack's (service = the ingestion function). */
export function pipelineMetricQuery(aggregate: string, service: string, groupByDataset = false): string {
  // The namespace unquoted (Metrics Insights allows it for plain names): the dashboard embeds the
  // query in a Terraform jsonencode() expression, where a double quote would end the string.
  const schema = `SCHEMA(${METRICS_NAMESPACE}, ${METRIC_DIMENSIONS.join(', ')})`;
  return `SELECT ${aggregate} FROM ${schema} WHERE service = '${service}'${groupByDataset ? ' GROUP BY dataset' : ''}`;
}
