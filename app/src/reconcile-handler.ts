import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '@lakehouse/contract';
import { ConfigError } from './config';
import { logger } from './logger';
import { recordLeftBehind } from './metrics';
import { deployedPipeline, type PipelineTarget } from './replay/pipeline-target';
import { type ReconcileReport, reconcile } from './replay/reconcile';
import { type Runtime, runtime } from './runtime';

/** What the scheduled reconciliation reads from its environment, beside the handler's configuration. */
export interface ReconcileSettings {
  rawBucket: string;
  /** Replay what is found (the ingestion function and the gold queue), or only count it. */
  repair?: { ingestFunctionName: string; goldQueueUrl: string };
}

export function loadReconcileSettings(env: Record<string, string | undefined> = process.env): ReconcileSettings {
  const value = (name: string) => env[name]?.trim() || undefined;
  const required = (name: string) => {
    const found = value(name);
    if (!found) throw new ConfigError(`Environment variable ${name} is required but not set`);
    return found;
  };
  const rawBucket = required(ENV.rawBucket);
  if (value(ENV.reconcileRepair) !== 'true') return { rawBucket };
  return {
    rawBucket,
    repair: { ingestFunctionName: required(ENV.ingestFunctionName), goldQueueUrl: required(ENV.goldQueueUrl) },
  };
}

/** Refuses to replay: the schedule only counts unless repair is on. */
const countOnly: PipelineTarget = {
  ingest: () => Promise.reject(new Error('repair is off')),
  queueGold: () => Promise.reject(new Error('repair is off')),
};

/**
 * One scheduled pass of `pnpm reconcile`: finds what the pipeline left
 * behind, reports it as metrics (RawObjectsLeftBehind, SilverFilesNotInGold)
 * and log lines, and with repair on hands it back to the ingestion function
 * and the gold queue, without waiting (the next pass sees what landed).
 */
export async function reconcileOnSchedule(
  rt: Runtime,
  settings: ReconcileSettings,
  target: PipelineTarget = countOnly,
): Promise<ReconcileReport> {
  const report = await reconcile(
    {
      s3: rt.s3,
      zones: { raw: settings.rawBucket, silver: rt.cfg.silverBucket, gold: rt.cfg.goldBucket },
      datasets: rt.datasets,
      cfg: rt.cfg,
      target,
    },
    { dryRun: !settings.repair, say: (line) => logger.info(line.trim()) },
  );
  recordLeftBehind(report.found);
  return report;
}

let settings: ReconcileSettings | undefined;
export const reconcileHandler = async (): Promise<ReconcileReport> => {
  settings ??= loadReconcileSettings();
  const rt = runtime();
  const target = settings.repair
    ? deployedPipeline(
        { lambda: new LambdaClient({ region: rt.cfg.region }), sqs: new SQSClient({ region: rt.cfg.region }) },
        { functionName: settings.repair.ingestFunctionName, goldQueueUrl: settings.repair.goldQueueUrl },
      )
    : countOnly;
  return reconcileOnSchedule(rt, settings, target);
};
