import type { LocalLakehouse } from '../../local/local-lakehouse';
import { type Dataset, loadDatasets } from '../../src/datasets';
import { clientsFor, localDeployment } from '../../src/replay/deployment';
import { deployedPipeline } from '../../src/replay/pipeline-target';

/**
 * What the replay commands use, pointed at a local lakehouse instead of AWS:
 * the SDK's Lambda, SQS and S3 clients (the caller destroys `clients`).
 */
export function replayDeps(lakehouse: LocalLakehouse, datasets: ReadonlyMap<string, Dataset> = loadDatasets()) {
  const deployment = localDeployment(lakehouse.endpoint);
  const clients = clientsFor(deployment);
  return {
    s3: clients.s3,
    sqs: clients.sqs,
    zones: deployment.buckets,
    datasets,
    cfg: lakehouse.cfg,
    target: deployedPipeline(clients, deployment),
    queues: { failedEvents: deployment.failedEventsQueueUrl, goldDeadLetter: deployment.goldDeadLetterQueueUrl },
    clients,
  };
}
