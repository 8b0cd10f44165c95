/**
 * The CloudWatch metrics the ingestion handler emits (embedded metric format),
 * named once here: the handler writes them, the stack's alarms and dashboard
 * read them.
 */
export const METRICS_NAMESPACE = 'Lakehouse';

export const METRIC = {
  filesIngested: 'FilesIngested',
  filesQuarantined: 'FilesQuarantined',
  silverRows: 'SilverRows',
  rejectedRows: 'RejectedRows',
  ingestMilliseconds: 'IngestMilliseconds',
  transientFailures: 'TransientFailures',
} as const;

/** What the scheduled reconciliation counts on each pass, with the service as only dimension. */
export const RECONCILE_METRIC = {
  /** Current raw objects with neither a silver output nor a quarantine record. */
  rawObjectsLeftBehind: 'RawObjectsLeftBehind',
  /** Silver files of current raw objects that gold has not applied. */
  silverFilesNotInGold: 'SilverFilesNotInGold',
} as const;

/**
 * Every per-file metric carries these two dimensions: the dataset, and the
 * service (the function's name on AWS, so two stacks in one account and region
 * are told apart).
 */
export const METRIC_DIMENSIONS = ['dataset', 'service'] as const;

/** The service dimension and log field where POWERTOOLS_SERVICE_NAME is not set (local runs). */
export const DEFAULT_SERVICE_NAME = 'lakehouse-ingestion';
