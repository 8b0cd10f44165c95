import type * as MetricsModule from '../src/metrics';

describe('metrics', () => {
  it('emits one embedded-metric-format line per object, by dataset', () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    let recordOutcome: typeof MetricsModule.recordOutcome = () => undefined;
    jest.isolateModules(() => {
      ({ recordOutcome } = require('../src/metrics') as typeof MetricsModule);
    });
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      recordOutcome(
        { status: 'ingested', dataset: 'trips', format: 'csv', silverKey: 'k', silverRows: 40, rejectedRows: 3 },
        120,
      );
      recordOutcome({ status: 'quarantined', dataset: 'trips', quarantineKey: 'q', reason: 'empty', error: 'e' }, 5);
    } finally {
      write.mockRestore();
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    }

    const emitted = lines.map((line) => JSON.parse(line));
    expect(emitted).toHaveLength(2);
    expect(emitted[0]).toMatchObject({ dataset: 'trips', FilesIngested: 1, SilverRows: 40, RejectedRows: 3 });
    expect(emitted[0]._aws.CloudWatchMetrics[0].Namespace).toBe('Lakehouse');
    expect(emitted[1]).toMatchObject({ dataset: 'trips', FilesQuarantined: 1 });
  });
});
