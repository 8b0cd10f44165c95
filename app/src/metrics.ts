import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC, METRICS_NAMESPACE, RECONCILE_METRIC } from '@lakehouse/contract';
import { serviceName } from './config';
import type { IngestOutcome } from './ingest/ingest-object';

/** CloudWatch metrics as embedded-metric-format log lines: no API call, no extra latency. */
function metricsLine(dimensions: Record<string, string> = {}): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: serviceName(), defaultDimensions: dimensions });
}

export function recordTransientFailure(): void {
  const line = metricsLine();
  line.addMetric(METRIC.transientFailures, MetricUnit.Count, 1);
  line.publishStoredMetrics();
}

/**
 * Counts and duration of one processed object, in one line with its dataset as dimension. A file
 * planned in chunks is counted once, by its commit or fail step.
 */
export function recordOutcome(outcome: IngestOutcome, ms: number): void {
  if (outcome.status === 'skipped' || outcome.status === 'planned') return;
  const line = metricsLine({ dataset: outcome.dataset });
  if (outcome.status === 'quarantined') {
    line.addMetric(METRIC.filesQuarantined, MetricUnit.Count, 1);
  } else {
    line.addMetric(METRIC.filesIngested, MetricUnit.Count, 1);
    line.addMetric(METRIC.silverRows, MetricUnit.Count, outcome.silverRows);
    line.addMetric(METRIC.rejectedRows, MetricUnit.Count, outcome.rejectedRows);
    line.addMetric(METRIC.ingestMilliseconds, MetricUnit.Milliseconds, ms);
  }
  line.publishStoredMetrics();
}

/** What a reconciliation found left behind, with the service as only dimension (0 too, so an alarm has data). */
export function recordLeftBehind(found: {
  noOutcome: unknown[];
  notInGold: unknown[];
  uploadedAgain: unknown[];
}): void {
  const line = metricsLine();
  line.addMetric(RECONCILE_METRIC.rawObjectsLeftBehind, MetricUnit.Count, found.noOutcome.length);
  // A file uploaded again, unchanged, whose latest upload gold has not applied: its silver file is not in gold as it should be.
  line.addMetric(
    RECONCILE_METRIC.silverFilesNotInGold,
    MetricUnit.Count,
    found.notInGold.length + found.uploadedAgain.length,
  );
  line.publishStoredMetrics();
}
