import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { type EventLogEntry, type LocalLakehouse, startLocalLakehouse } from '../../local/local-lakehouse';
import { type Dataset, loadDatasets } from '../../src/datasets';
import { listKeys } from '../../src/io/s3-io';
import { backfill } from '../../src/replay/backfill';
import { destroyClients } from '../../src/replay/deployment';
import { isWhole } from '../../src/replay/left-behind';
import { reconcile } from '../../src/replay/reconcile';
import { replayDeps } from '../support/replay-deps';
import { rowsUnder, tripsFile, uploadAndWait } from '../support/zones';

const CHUNK_BYTES = 8 * 1024;
/** About 26 KB of trips: four chunks of 8 KB. */
const BIG: [string, string] = ['trips/month.csv', tripsFile(0, 400)];
const SMALL: [string, string] = ['trips/day.csv', tripsFile(380, 420)];

describe('reconcile and backfill treat a file processed in chunks like any other', () => {
  let home: string;
  let lakehouse: LocalLakehouse;
  let deps: ReturnType<typeof replayDeps>;
  const datasets = loadDatasets();

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'chunked-replay-'));
    lakehouse = await startLocalLakehouse({
      port: 0,
      dataDir: join(home, 's3'),
      datasets,
      log: () => {},
      retryDelaysMs: [],
      chunkBytes: CHUNK_BYTES,
    });
    deps = replayDeps(lakehouse, datasets);
  });

  afterAll(async () => {
    destroyClients(deps.clients);
    await lakehouse.stop({ graceMs: 0 });
    await rm(home, { recursive: true, force: true });
  });

  const tables = async () => {
    const client = lakehouse.client();
    return {
      silver: await rowsUnder(client, lakehouse.cfg, 'silver', 'trips/'),
      rejects: await rowsUnder(client, lakehouse.cfg, 'silver', '_rejects/trips/'),
      gold: await rowsUnder(client, lakehouse.cfg, 'gold', 'trips/'),
      keys: [...(await listKeys(client, 'silver')), ...(await listKeys(client, 'gold', 'trips/'))],
    };
  };

  it('finds nothing to do after a chunked file, replays its lost output through chunks, and backfills it unchanged', async () => {
    const client = lakehouse.client();
    const big = await uploadAndWait(lakehouse, client, ...BIG);
    const small = await uploadAndWait(lakehouse, client, ...SMALL);
    expect(big).toMatchObject({ status: 'ingested' });
    expect(big.chunks).toBeGreaterThanOrEqual(3);
    expect(small).toMatchObject({ status: 'ingested' });
    expect(small).not.toHaveProperty('chunks');
    const built = await tables();
    expect(built.silver).toHaveLength(440);

    // Its outputs and its gold job count as the chunked file's outcome.
    const dry = await reconcile(deps, { dryRun: true });
    expect(dry.found.scanned).toBe(2);
    expect(isWhole(dry.found)).toBe(true);

    // Its silver object lost: reconcile replays the event, and the file goes through chunks again, to silver only
    // (gold has applied it).
    await client.send(new DeleteObjectCommand({ Bucket: 'silver', Key: big.silverKey }));
    const replayed = new Promise<EventLogEntry>((done) => {
      const stop = lakehouse.onEvent((entry) => {
        if (entry.key !== BIG[0]) return;
        stop();
        done(entry);
      });
    });
    const report = await reconcile(deps, { waitMs: 20_000, pollMs: 100 });
    expect(report.replayed).toEqual({ events: 1, goldJobs: 0 });
    expect(await replayed).toMatchObject({
      status: 'ingested',
      chunks: big.chunks,
      silverKey: big.silverKey,
      alreadyInGold: true,
    });
    await lakehouse.idle();
    expect(await tables()).toEqual(built);

    // Backfill reads every raw file again, here, into a fresh build: the same tables. One invocation takes
    // 16 KB here, so the large file can only be read in chunks (whole, it would be quarantined and lose its silver).
    const lines: string[] = [];
    const limited = { ...deps, cfg: { ...lakehouse.cfg, maxObjectBytes: 16 * 1024 } };
    const backfilled = await backfill(
      datasets.get('trips') as Dataset,
      { ...limited, chunks: { chunkBytes: CHUNK_BYTES, concurrency: 2 } },
      { waitMs: 30_000, pollMs: 100, say: (line) => lines.push(line) },
    );
    await lakehouse.idle();
    expect(backfilled).toMatchObject({ objects: 2, ingested: 2, inChunks: 1, quarantined: 0, switched: true });
    expect(lines).toContainEqual(expect.stringMatching(/^silver: 2 ingested \(440 rows, 0 rejected, 1 in chunks\)/));
    expect(await tables()).toEqual(built);
    expect(await listKeys(client, 'silver', '_chunks/')).toEqual([]);
  });
});
