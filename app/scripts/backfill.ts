/**
 * Rebuilds a dataset's silver, rejects and gold from raw after a change to
 * its SQL or rules, and switches gold to the rebuilt generation in one step.
 */
import { DEFAULT_CHUNK_THRESHOLD_MB } from '@lakehouse/contract';
import { parseCommandLine, UsageError, wholeNumber } from '../local/command-line';
import {
  DEPLOYMENT_OPTIONS,
  DEPLOYMENT_USAGE,
  deploymentFrom,
  runReplayCommand,
  withDeployment,
} from '../local/deployment-options';
import { quietLocalLogs } from '../local/local-lakehouse';
import { loadDatasets } from '../src/datasets';
import { backfill } from '../src/replay/backfill';
import type { Deployment } from '../src/replay/deployment';
import { deployedPipeline } from '../src/replay/pipeline-target';

const USAGE = `pnpm backfill --dataset D [options]

After a change to app/transforms/D (its SQL or rules), processes every current
raw object of D again, here, with the function's code and these transforms:
silver, rejects and quarantine records are rewritten in place; gold is built as
a new generation beside the live one, then a switch job in the gold queue makes
it live between two gold updates, catching up on files that arrived meanwhile.
On AWS, deploy the change first, so new files get the same transforms.

  --dataset D        the dataset to rebuild (required)
  --concurrency N    raw objects processed at once (default 2)
  --chunk-mb N       a file above N MB is processed in chunks, here, as pnpm dev runs
                     them (default ${DEFAULT_CHUNK_THRESHOLD_MB}, as the stack's chunk_threshold_mb; 0: every file whole)
  --chunk-concurrency N
                     chunks of one file processed at once (default 2)
  --wait SECONDS     how long to wait for the switch (default 300; 0: do not wait)
${DEPLOYMENT_USAGE}
  -h, --help         this help

Exit code 0 once gold has switched (or the dataset has no gold), 1 otherwise.`;

let deployment: Deployment | undefined;

async function main(): Promise<number> {
  const values = parseCommandLine(USAGE, {
    dataset: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    'chunk-mb': { type: 'string', default: String(DEFAULT_CHUNK_THRESHOLD_MB) },
    'chunk-concurrency': { type: 'string', default: '2' },
    wait: { type: 'string', default: '300' },
    ...DEPLOYMENT_OPTIONS,
  });
  if (!values.dataset) throw new UsageError('--dataset is required');
  const datasets = loadDatasets();
  const dataset = datasets.get(values.dataset);
  if (!dataset) {
    throw new UsageError(
      `no dataset "${values.dataset}" in app/transforms (there: ${[...datasets.keys()].join(', ')})`,
    );
  }
  const concurrency = wholeNumber('--concurrency', values.concurrency, 1);
  const waitMs = wholeNumber('--wait', values.wait) * 1000;
  const chunkBytes = wholeNumber('--chunk-mb', values['chunk-mb']) * 1024 ** 2;
  const chunks = chunkBytes
    ? { chunkBytes, concurrency: wholeNumber('--chunk-concurrency', values['chunk-concurrency'], 1) }
    : undefined;
  deployment = deploymentFrom(values);
  const target = deployment;
  quietLocalLogs();
  const say = (line: string) => console.log(line);
  const report = await withDeployment(target, (clients, cfg) =>
    backfill(
      dataset,
      {
        s3: clients.s3,
        zones: target.buckets,
        cfg,
        target: deployedPipeline(clients, target),
        ...(chunks ? { chunks } : {}),
      },
      { concurrency, waitMs, say },
    ),
  );
  return report.switched || !report.generation || waitMs === 0 ? 0 : 1;
}

runReplayCommand(main, () => deployment);
