/**
 * Makes the zones whole: raw objects without an outcome go back to the
 * ingestion function, silver files gold has not applied back to the gold
 * queue. Against the pnpm dev lakehouse, or the deployed stack with --aws.
 */
import { parseCommandLine, wholeNumber } from '../local/command-line';
import {
  DEPLOYMENT_OPTIONS,
  DEPLOYMENT_USAGE,
  deploymentFrom,
  runReplayCommand,
  sinceFrom,
  withDeployment,
} from '../local/deployment-options';
import { quietLocalLogs } from '../local/local-lakehouse';
import { loadDatasets } from '../src/datasets';
import type { Deployment } from '../src/replay/deployment';
import { isWhole } from '../src/replay/left-behind';
import { deployedPipeline } from '../src/replay/pipeline-target';
import { reconcile } from '../src/replay/reconcile';

const USAGE = `pnpm reconcile [options]

Lists raw and finds every object whose current version has neither a silver
output nor a quarantine record, and every silver file its dataset's gold has
not applied; hands the first to the ingestion function (an asynchronous
invocation with the S3 event it once was) and the second to the gold queue,
then waits for them to land. Running it again finds nothing.

  --dataset D       only raw objects of dataset D (keys under D/)
  --since DATE      only raw objects last modified at or after DATE (ISO 8601: 2026-01-15, 2026-01-15T10:00Z)
  --dry-run         report only
  --wait SECONDS    how long to wait for the replayed work before reporting (default 300; 0: do not wait)
${DEPLOYMENT_USAGE}
  -h, --help        this help

Exit code 0 when nothing is left behind (or with --dry-run), 1 when something still is.`;

let deployment: Deployment | undefined;

async function main(): Promise<number> {
  const values = parseCommandLine(USAGE, {
    dataset: { type: 'string' },
    since: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    wait: { type: 'string', default: '300' },
    ...DEPLOYMENT_OPTIONS,
  });
  const since = sinceFrom(values.since);
  const waitMs = wholeNumber('--wait', values.wait) * 1000;
  deployment = deploymentFrom(values);
  const target = deployment;
  quietLocalLogs();
  const say = (line: string) => console.log(line);
  say(`reconciling ${target.endpoint ?? `the deployed stack (raw bucket ${target.buckets.raw})`}`);
  const report = await withDeployment(target, (clients, cfg) =>
    reconcile(
      {
        s3: clients.s3,
        zones: target.buckets,
        datasets: loadDatasets(),
        cfg,
        target: deployedPipeline(clients, target),
      },
      { dataset: values.dataset, since, dryRun: values['dry-run'], waitMs, say },
    ),
  );
  // Nothing found, a dry run, or work handed over without waiting: done. Waited: is it whole now?
  return !report.remaining || isWhole(report.remaining) ? 0 : 1;
}

runReplayCommand(main, () => deployment);
