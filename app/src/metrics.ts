import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { IngestOutcome } from './ingest/ingest-object';

const NAMESPACE = 'Lakehouse';
const SERVICE = 'lakehouse-ingestion';

/** CloudWatch metrics as embedded-metric-format log lines: no API call, no extra latency. */
function metricsLine(dimensions: Record<string, string> = {}): Metrics {
  return new Metrics({ namespace: NAMESPACE, serviceName: SERVICE, defaultDimensions: dimensions });
}

export function recordTransientFailure(): void {
  const line = metricsLine();
  line.addMetric('TransientFailures', MetricUnit.Count, 1);
  line.publishStoredMetrics();
}

/** Counts and duration of one processed object, in one line with its dataset as dimension. */
export function recordOutcome(outcome: IngestOutcome, ms: number): void {
  if (outcome.status === 'skipped') return;
  const line = new Metrics({
    namespace: NAMESPACE,
    serviceName: SERVICE,
    defaultDimensions: { dataset: outcome.dataset },
  });
  if (outcome.status === 'quarantined') {
    line.addMetric('FilesQuarantined', MetricUnit.Count, 1);
  } else {
    line.addMetric('FilesIngested', MetricUnit.Count, 1);
    line.addMetric('SilverRows', MetricUnit.Count, outcome.silverRows);
    line.addMetric('RejectedRows', MetricUnit.Count, outcome.rejectedRows);
    line.addMetric('IngestMilliseconds', MetricUnit.Milliseconds, ms);
  }
  line.publishStoredMetrics();
}
