/**
 * Re-runs what failed: the failed-events queue's S3 events go back to the
 * ingestion function, the gold dead-letter queue back to the gold queue;
 * then reports what still fails and why.
 */
import { parseCommandLine, wholeNumber } from '../local/command-line';
import {
  DEPLOYMENT_OPTIONS,
  DEPLOYMENT_USAGE,
  deploymentFrom,
  runReplayCommand,
  withDeployment,
} from '../local/deployment-options';
import { quietLocalLogs } from '../local/local-lakehouse';
import { loadDatasets } from '../src/datasets';
import type { Deployment } from '../src/replay/deployment';
import { deployedPipeline } from '../src/replay/pipeline-target';
import { redrive } from '../src/replay/redrive';

const USAGE = `pnpm redrive [options]

Re-submits every event in the failed-events queue (the original S3 event inside
each on-failure record) to the ingestion function, and moves the gold
dead-letter queue back to the gold queue; events of an object overwritten or
deleted since are dropped. Then waits and reports what still fails, and why.
Locally, the failed-events queue holds the events pnpm dev logged as failed.

  --wait SECONDS    how long to wait before reporting what still fails (default 300; 0: do not wait)
${DEPLOYMENT_USAGE}
  -h, --help        this help

Exit code 0 when everything redriven has its outcome, 1 when something still fails or has none yet.`;

let deployment: Deployment | undefined;

async function main(): Promise<number> {
  const values = parseCommandLine(USAGE, { wait: { type: 'string', default: '300' }, ...DEPLOYMENT_OPTIONS });
  const waitMs = wholeNumber('--wait', values.wait) * 1000;
  deployment = deploymentFrom(values);
  const target = deployment;
  quietLocalLogs();
  const say = (line: string) => console.log(line);
  const report = await withDeployment(target, (clients, cfg) =>
    redrive(
      {
        s3: clients.s3,
        sqs: clients.sqs,
        zones: target.buckets,
        datasets: loadDatasets(),
        cfg,
        target: deployedPipeline(clients, target),
        queues: { failedEvents: target.failedEventsQueueUrl, goldDeadLetter: target.goldDeadLetterQueueUrl },
      },
      { waitMs, say },
    ),
  );
  return report.stillFailing.length + report.pending.length > 0 ? 1 : 0;
}

runReplayCommand(main, () => deployment);
