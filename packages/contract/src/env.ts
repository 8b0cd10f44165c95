/**
 * Environment variables the handler reads. The stack sets them on the Lambda
 * function and the local lakehouse sets them for its in-process handler, so
 * both name them from here.
 */
export const ENV = {
  silverBucket: 'SILVER_BUCKET',
  goldBucket: 'GOLD_BUCKET',
  /**
   * Optional: the SQS FIFO queue that serialises gold updates per dataset
   * (set on AWS). Without it the gold step runs in-process after silver,
   * serialised per dataset by an in-process lock (local runs).
   */
  goldQueueUrl: 'GOLD_QUEUE_URL',
  /** Optional: an S3-compatible endpoint (path-style), for local runs. */
  s3Endpoint: 'S3_ENDPOINT',
  /** Optional: largest raw object accepted, in bytes; larger ones are quarantined. */
  maxObjectBytes: 'MAX_OBJECT_BYTES',
  /** Optional: where DuckDB and downloads put temporary files (Lambda: /tmp). */
  workDir: 'WORK_DIR',
  /** Optional: MB of the work dir kept for gold state objects across warm invocations (0: none). */
  goldCacheMb: 'GOLD_CACHE_MB',
  /**
   * Optional: the Glue database of the lakehouse's tables (set on AWS). The ingestion function
   * creates and updates the tables of datasets that have no folder under transforms/ there.
   */
  glueDatabase: 'GLUE_DATABASE',
  /**
   * Optional: the `service` of log lines and metrics (Powertools' own variable); the stack sets each
   * function's name. Default: DEFAULT_SERVICE_NAME.
   */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** The scheduled reconciliation: the raw bucket it lists. */
  rawBucket: 'RAW_BUCKET',
  /** The scheduled reconciliation: the ingestion function it invokes to repair. */
  ingestFunctionName: 'INGEST_FUNCTION_NAME',
  /** The scheduled reconciliation: `true` replays what it finds; otherwise it only counts it. */
  reconcileRepair: 'RECONCILE_REPAIR',
  /**
   * Optional: MB above which the ingestion function plans a raw file in chunks of about this size and
   * hands the plan to the chunk state machine (set on AWS with CHUNK_STATE_MACHINE_ARN).
   */
  chunkThresholdMb: 'CHUNK_THRESHOLD_MB',
  /** Optional: the Step Functions state machine that runs a file's chunks (Distributed Map), then its commit. */
  chunkStateMachineArn: 'CHUNK_STATE_MACHINE_ARN',
  /** Set by the Lambda runtime. */
  lambdaMemoryMb: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  region: 'AWS_REGION',
} as const;
export type EnvName = (typeof ENV)[keyof typeof ENV];
