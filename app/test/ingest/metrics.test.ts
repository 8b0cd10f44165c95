import { METRIC, METRIC_DIMENSIONS, METRICS_NAMESPACE } from '@lakehouse/contract';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import type * as MetricsModule from '../../src/metrics';

/** The embedded-metric-format lines recordOutcome writes to stdout, parsed. */
function emittedLines(env: Record<string, string | undefined>, emit: (m: typeof MetricsModule) => void) {
  const saved = { ...process.env };
  Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'false' }, env);
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete process.env[name];
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    jest.isolateModules(() => emit(require('../../src/metrics') as typeof MetricsModule));
  } finally {
    write.mockRestore();
    process.env = saved;
  }
  return lines.map((line) => JSON.parse(line));
}

describe('metrics', () => {
  const ingested = {
    status: 'ingested',
    dataset: 'trips',
    format: 'csv',
    silverKey: 'k',
    silverRows: 40,
    rejectedRows: 3,
  };
  const quarantined = { status: 'quarantined', dataset: 'trips', quarantineKey: 'q', reason: 'empty', error: 'e' };

  it('emits one embedded-metric-format line per object, by dataset', () => {
    const emitted = emittedLines({ POWERTOOLS_SERVICE_NAME: undefined }, ({ recordOutcome }) => {
      recordOutcome(ingested as IngestOutcome, 120);
      recordOutcome(quarantined as IngestOutcome, 5);
    });
    expect(emitted).toHaveLength(2);
    expect(emitted[0]).toMatchObject({ dataset: 'trips', FilesIngested: 1, SilverRows: 40, RejectedRows: 3 });
    expect(emitted[0]._aws.CloudWatchMetrics[0].Namespace).toBe('Lakehouse');
    expect(emitted[1]).toMatchObject({ dataset: 'trips', FilesQuarantined: 1, service: 'lakehouse-ingestion' });
  });

  it('carries exactly the dimensions and names the stack alarms and charts on, with the function as service', () => {
    const [line] = emittedLines({ POWERTOOLS_SERVICE_NAME: 'acme_ingestion' }, ({ recordOutcome }) =>
      recordOutcome(quarantined as IngestOutcome, 5),
    );
    const [directive] = line._aws.CloudWatchMetrics;
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    // Metrics Insights' SCHEMA("Lakehouse", dataset, service) matches exactly this dimension set.
    expect(directive.Dimensions.map((set: string[]) => [...set].sort())).toEqual([[...METRIC_DIMENSIONS].sort()]);
    expect(directive.Metrics.map((m: { Name: string }) => m.Name)).toEqual([METRIC.filesQuarantined]);
    expect(line.service).toBe('acme_ingestion');
  });

  it('counts what a reconciliation left behind, zeros included, by service', () => {
    const [line] = emittedLines({ POWERTOOLS_SERVICE_NAME: 'acme_ingestion_reconcile' }, ({ recordLeftBehind }) =>
      recordLeftBehind({ noOutcome: [1, 2], notInGold: [], uploadedAgain: [] }),
    );
    expect(line).toMatchObject({
      RawObjectsLeftBehind: 2,
      SilverFilesNotInGold: 0,
      service: 'acme_ingestion_reconcile',
    });
    expect(line._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  });

  it('counts a file uploaded again whose latest upload gold has not applied as a silver file not in gold', () => {
    const [line] = emittedLines({ POWERTOOLS_SERVICE_NAME: 'acme_ingestion_reconcile' }, ({ recordLeftBehind }) =>
      recordLeftBehind({ noOutcome: [], notInGold: [1], uploadedAgain: [2, 3] }),
    );
    expect(line).toMatchObject({ RawObjectsLeftBehind: 0, SilverFilesNotInGold: 3 });
  });
});
