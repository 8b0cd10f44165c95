import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { type LocalLakehouse, startLocalLakehouse } from '../../local/local-lakehouse';
import { ConfigError } from '../../src/config';
import { loadReconcileSettings, reconcileOnSchedule } from '../../src/reconcile-handler';
import { clientsFor, destroyClients, localDeployment } from '../../src/replay/deployment';
import { deployedPipeline } from '../../src/replay/pipeline-target';
import { createRuntime } from '../../src/runtime';
import { tripsFile, uploadAndWait } from '../support/zones';

describe('the scheduled reconciliation', () => {
  describe('its settings', () => {
    it('counts only, unless RECONCILE_REPAIR is true; repair needs the function and the gold queue', () => {
      expect(loadReconcileSettings({ RAW_BUCKET: 'raw-1' })).toEqual({ rawBucket: 'raw-1' });
      expect(() => loadReconcileSettings({})).toThrow(
        new ConfigError('Environment variable RAW_BUCKET is required but not set'),
      );
      expect(() => loadReconcileSettings({ RAW_BUCKET: 'raw-1', RECONCILE_REPAIR: 'true' })).toThrow(
        new ConfigError('Environment variable INGEST_FUNCTION_NAME is required but not set'),
      );
      expect(
        loadReconcileSettings({
          RAW_BUCKET: 'raw-1',
          RECONCILE_REPAIR: 'true',
          INGEST_FUNCTION_NAME: 'fn',
          GOLD_QUEUE_URL: 'https://sqs/gold.fifo',
        }),
      ).toEqual({ rawBucket: 'raw-1', repair: { ingestFunctionName: 'fn', goldQueueUrl: 'https://sqs/gold.fifo' } });
    });
  });

  describe('against a lakehouse with an object left behind', () => {
    let home: string;
    let lakehouse: LocalLakehouse;

    beforeAll(async () => {
      home = await mkdtemp(join(tmpdir(), 'scheduled-reconcile-'));
      lakehouse = await startLocalLakehouse({ port: 0, dataDir: join(home, 's3'), log: () => {} });
      const client = lakehouse.client();
      const lost = await uploadAndWait(lakehouse, client, 'trips/a.csv', tripsFile(0, 10));
      await client.send(new DeleteObjectCommand({ Bucket: 'silver', Key: lost.silverKey }));
    });

    afterAll(async () => {
      await lakehouse.stop();
      await rm(home, { recursive: true, force: true });
    });

    it('counts it without repair, and replays it through the ingestion function with repair', async () => {
      const rt = createRuntime(lakehouse.cfg);
      const counted = await reconcileOnSchedule(rt, { rawBucket: 'raw' });
      expect(counted.found.noOutcome.map((raw) => raw.key)).toEqual(['trips/a.csv']);
      expect(counted.replayed).toEqual({ events: 0, goldJobs: 0 });

      const deployment = localDeployment(lakehouse.endpoint);
      const clients = clientsFor(deployment);
      const processed = lakehouse.whenProcessed('trips/a.csv');
      const repaired = await reconcileOnSchedule(
        rt,
        { rawBucket: 'raw', repair: { ingestFunctionName: 'ingestion', goldQueueUrl: deployment.goldQueueUrl } },
        deployedPipeline(clients, deployment),
      );
      expect(repaired.replayed).toEqual({ events: 1, goldJobs: 0 });
      expect((await processed).status).toBe('ingested');
      await lakehouse.idle();
      const after = await reconcileOnSchedule(rt, { rawBucket: 'raw' });
      expect(after.found).toMatchObject({ noOutcome: [], notInGold: [] });
      destroyClients(clients);
      rt.s3.destroy();
    });
  });
});
