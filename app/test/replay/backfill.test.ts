import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLD_STATE_PREFIX, goldManifestKey, goldPendingTablesKey } from '@lakehouse/contract';
import { type EventLogEntry, type LocalLakehouse, startLocalLakehouse } from '../../local/local-lakehouse';
import { type Dataset, loadDatasets } from '../../src/datasets';
import { readAppliedLedger } from '../../src/gold/applied-ledger';
import { applyToGold } from '../../src/gold/apply-to-gold';
import { loadManifest, stateObjectsOf } from '../../src/gold/gold-state';
import { generationName } from '../../src/gold/switch-generation';
import { handleS3Event } from '../../src/handler';
import { ObjectCache } from '../../src/io/object-cache';
import { listKeys } from '../../src/io/s3-io';
import { backfill } from '../../src/replay/backfill';
import { clientsFor, destroyClients, localDeployment } from '../../src/replay/deployment';
import { findLeftBehind, isWhole } from '../../src/replay/left-behind';
import { deployedPipeline } from '../../src/replay/pipeline-target';
import { readSchema } from '../../src/schema/schema-store';
import { failDeletesAfterManifest } from '../support/commit-faults';
import { eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { dateRawObject, objectStamps, rowsUnder, tripsFile, uploadAndWait } from '../support/zones';

const TRANSFORMS = join(__dirname, '..', '..', 'transforms');

/** Files that share trips, a row the rule change lets through, and a file that is not trips at all. */
const FILES: Array<[string, string]> = [
  ['trips/2026-01-15.csv', tripsFile(0, 40)],
  ['trips/2026-01-16.csv', tripsFile(20, 60)],
  ['trips/twelve-passengers.csv', tripsFile(50, 70, (n) => (n === 55 ? { passengers: 12 } : {}))],
  ['trips/zones.csv', 'zone_id,name\n1,Downtown\n'],
];
const LATE: [string, string] = ['trips/late.csv', tripsFile(65, 80)];

describe('backfill: a changed transform re-applied from raw', () => {
  let home: string;
  const running: LocalLakehouse[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'backfill-test-'));
    cpSync(join(TRANSFORMS, 'trips'), join(home, 'transforms', 'trips'), { recursive: true });
  });

  afterAll(async () => {
    for (const lakehouse of running) await lakehouse.stop({ graceMs: 0 });
    await rm(home, { recursive: true, force: true });
  });

  async function start(name: string, datasets: ReadonlyMap<string, Dataset>): Promise<LocalLakehouse> {
    const lakehouse = await startLocalLakehouse({
      port: 0,
      dataDir: join(home, name, 's3'),
      datasets,
      log: () => {},
      retryDelaysMs: [],
    });
    running.push(lakehouse);
    return lakehouse;
  }

  /** The change: fares doubled in silver.sql, and passengers may now be up to 20 (contract.json). */
  function changeTransform(): ReadonlyMap<string, Dataset> {
    const sql = join(home, 'transforms', 'trips', 'silver.sql');
    const contract = join(home, 'transforms', 'trips', 'contract.json');
    const fare = 'try_cast(fare as decimal(12, 2)) as fare';
    expect(readFileSync(sql, 'utf8')).toContain(fare);
    writeFileSync(sql, readFileSync(sql, 'utf8').replace(fare, 'try_cast(fare as decimal(12, 2)) * 2 as fare'));
    const rule = 'passengers between 0 and 9';
    expect(readFileSync(contract, 'utf8')).toContain(rule);
    writeFileSync(contract, readFileSync(contract, 'utf8').replace(rule, 'passengers between 0 and 20'));
    return loadDatasets(join(home, 'transforms'));
  }

  it('rebuilds silver, rejects and gold as a fresh build with the new transform, while a file arrives', async () => {
    const before = await start('live', loadDatasets(join(home, 'transforms')));
    const beforeClient = before.client();
    for (const [key, body] of FILES) await uploadAndWait(before, beforeClient, key, body);
    const goldBefore = await rowsUnder(beforeClient, before.cfg, 'gold', 'trips/');
    await before.stop();

    // The change is deployed: the lakehouse restarts with it, and a file arrives during the backfill.
    const datasets = changeTransform();
    const live = await start('live', datasets);
    const client = live.client();
    const deployment = localDeployment(live.endpoint);
    const clients = clientsFor(deployment);
    let late: Promise<EventLogEntry> | undefined;
    const report = await backfill(
      datasets.get('trips') as Dataset,
      { s3: clients.s3, zones: deployment.buckets, cfg: live.cfg, target: deployedPipeline(clients, deployment) },
      {
        waitMs: 30_000,
        pollMs: 100,
        say: (line) => {
          if (line.startsWith('silver:')) late = uploadAndWait(live, client, ...LATE);
        },
      },
    );
    expect((await late)?.status).toBe('ingested');
    await live.idle();
    destroyClients(clients);

    const fresh = await start('fresh', datasets);
    const freshClient = fresh.client();
    for (const [key, body] of [...FILES, LATE]) await uploadAndWait(fresh, freshClient, key, body);

    expect(report).toMatchObject({ objects: 4, ingested: 3, quarantined: 1, switched: true });
    // twelve-passengers.csv had one rejected row; under the new rule it has none, so its rejects went.
    expect(report.removedOutputs).toEqual([expect.stringMatching(/^_rejects\/trips\/twelve-passengers-/)]);
    for (const prefix of ['trips/', '_rejects/trips/', '_quarantine/trips/']) {
      expect(await listKeys(client, 'silver', prefix)).toEqual(await listKeys(freshClient, 'silver', prefix));
    }
    for (const prefix of ['trips/', '_rejects/trips/']) {
      expect(await rowsUnder(client, live.cfg, 'silver', prefix)).toEqual(
        await rowsUnder(freshClient, fresh.cfg, 'silver', prefix),
      );
    }
    const gold = await rowsUnder(client, live.cfg, 'gold', 'trips/');
    expect(gold).toEqual(await rowsUnder(freshClient, fresh.cfg, 'gold', 'trips/'));
    expect(gold).not.toEqual(goldBefore);
    expect(await listKeys(client, 'gold', 'trips/')).toEqual(await listKeys(freshClient, 'gold', 'trips/'));

    // Nothing of the build is left beside the live tables, and every state object is the live manifest's.
    expect(await listKeys(client, 'gold', '_generations/')).toEqual([]);
    const manifest = await loadManifest(client, 'gold', 'trips');
    const marks = [goldManifestKey('trips'), goldPendingTablesKey('trips')];
    expect((await listKeys(client, 'gold', `${GOLD_STATE_PREFIX}/`)).filter((key) => !marks.includes(key))).toEqual(
      stateObjectsOf(manifest)
        .map((object) => object.key)
        .sort(),
    );
    expect(isWhole(await findLeftBehind({ s3: client, zones: deployment.buckets, datasets, cfg: live.cfg }))).toBe(
      true,
    );
  });

  it('applies files of the same second in the order live gold applied them', async () => {
    // The repository's transforms: the other tests change the copy under `home`.
    const datasets = loadDatasets(TRANSFORMS);
    const lakehouse = await start('same-second', datasets);
    const client = lakehouse.client();
    // b, then a, both with trip 7: live gold keeps a's fare. S3 dates both to the same second, and a sorts first.
    await uploadAndWait(
      lakehouse,
      client,
      'trips/b.csv',
      tripsFile(7, 8, () => ({ fare: 10 })),
    );
    await uploadAndWait(
      lakehouse,
      client,
      'trips/a.csv',
      tripsFile(7, 8, () => ({ fare: 20 })),
    );
    const second = Math.floor(Date.now() / 1000) - 60;
    for (const key of ['trips/b.csv', 'trips/a.csv']) {
      await dateRawObject(join(home, 'same-second', 's3'), key, second);
    }
    const goldBefore = await rowsUnder(client, lakehouse.cfg, 'gold', 'trips/');
    expect(goldBefore).toEqual([expect.objectContaining({ trips: '1', fare_total: '20.00' })]);

    const deployment = localDeployment(lakehouse.endpoint);
    const clients = clientsFor(deployment);
    const report = await backfill(
      datasets.get('trips') as Dataset,
      { s3: clients.s3, zones: deployment.buckets, cfg: lakehouse.cfg, target: deployedPipeline(clients, deployment) },
      { waitMs: 30_000, pollMs: 100 },
    );
    destroyClients(clients);

    expect(report).toMatchObject({ ingested: 2, switched: true });
    expect(await rowsUnder(client, lakehouse.cfg, 'gold', 'trips/')).toEqual(goldBefore);
  });

  it("starts the dataset's schema again: a type only the old SQL wrote does not quarantine the rebuilt files", async () => {
    const counts = (cast: string): Dataset => ({
      name: 'counts',
      requiredColumns: ['n'],
      rules: [],
      silverSql: `select _source, ${cast} as n from raw_input`,
      goldTables: [],
      schemaEvolution: 'additive',
    });
    const before = new Map([['counts', counts('try_cast(n as integer)')]]);
    const after = new Map([['counts', counts("nullif(trim(n), '')")]]);
    const lakehouse = await start('schema', before);
    const client = lakehouse.client();
    await uploadAndWait(lakehouse, client, 'counts/a.csv', 'n\n1\n');

    const deployment = localDeployment(lakehouse.endpoint);
    const clients = clientsFor(deployment);
    const report = await backfill(after.get('counts') as Dataset, {
      s3: clients.s3,
      zones: deployment.buckets,
      cfg: lakehouse.cfg,
      target: deployedPipeline(clients, deployment),
    });
    destroyClients(clients);

    expect(report).toMatchObject({ objects: 1, ingested: 1, quarantined: 0 });
    expect((await readSchema(client, 'silver', 'counts'))?.schema.columns).toContainEqual({
      name: 'n',
      type: 'VARCHAR',
    });
  });

  it('switches as a gold job: catches up on what gold applied after the backfill began; a retry changes nothing', async () => {
    const lake = await startTestLakehouse();
    try {
      const { rt } = lake;
      const trips = rt.datasets.get('trips') as Dataset;
      const first = await rt.applyGold({
        dataset: 'trips',
        silverKey: await ingestWithoutGold(lake, 'trips/a.csv', tripsFile(0, 30)),
      });
      const since = first?.version as number;

      // The backfill built the generation from a.csv; meanwhile gold applied b.csv.
      const generation = generationName('trips', 'test');
      const cache = new ObjectCache(join(lake.cfg.workDir, 'generation-cache'), 64 * 1024 * 1024);
      const silverA = (await lake.list('silver', 'trips/a-'))[0] as string;
      await applyToGold(
        { dataset: generation, silverKey: silverA },
        { ...trips, name: generation },
        {
          s3: rt.s3,
          cfg: rt.cfg,
          cache,
        },
      );
      const silverB = await ingestWithoutGold(
        lake,
        'trips/b.csv',
        tripsFile(20, 50, () => ({ fare: 99 })),
      );
      await rt.applyGold({ dataset: 'trips', silverKey: silverB });
      const client = lake.s3.client();
      const goldLive = await rowsUnder(client, lake.cfg, 'gold', 'trips/');

      await rt.applyGold({ dataset: 'trips', switchTo: { generation, since } });

      const manifest = await loadManifest(rt.s3, 'gold', 'trips');
      expect(manifest.generation).toBe(generation);
      // At least the live number, so later commits never reuse the key of an old state object.
      expect(manifest.version).toBe(since + 1);
      expect([...(await readAppliedLedger(rt.s3, rt.cfg, manifest)).keys()].sort()).toEqual([silverA, silverB].sort());
      expect(await rowsUnder(client, lake.cfg, 'gold', 'trips/')).toEqual(goldLive);
      expect(await listKeys(client, 'gold', '_generations/')).toEqual([]);

      const stamps = await objectStamps(client, 'gold');
      await rt.applyGold({ dataset: 'trips', switchTo: { generation, since } });
      expect(await objectStamps(client, 'gold')).toEqual(stamps);
    } finally {
      await lake.close();
    }
  });

  it("deletes the old live state in the switch's retry when its own cleanup was cut short", async () => {
    const lake = await startTestLakehouse();
    try {
      const { rt } = lake;
      const silverA = await ingestWithoutGold(lake, 'trips/a.csv', tripsFile(0, 30));
      const live = await rt.applyGold({ dataset: 'trips', silverKey: silverA });
      const generation = generationName('trips', 'test');
      const trips = rt.datasets.get('trips') as Dataset;
      const cache = new ObjectCache(join(lake.cfg.workDir, 'generation-cache'), 64 * 1024 * 1024);
      await applyToGold({ dataset: generation, silverKey: silverA }, { ...trips, name: generation }, { ...rt, cache });
      const client = lake.s3.client();
      const oldState = (await listKeys(client, 'gold', `${GOLD_STATE_PREFIX}/trips/`)).filter((key) =>
        key.endsWith('.parquet'),
      );
      // The switch's manifest is written; then every delete fails, so the switch job fails, to be retried.
      const undo = failDeletesAfterManifest(rt.s3, 'trips');
      const switchTo = { generation, since: live?.version as number };

      await expect(rt.applyGold({ dataset: 'trips', switchTo })).rejects.toThrow('connection reset');
      undo();
      expect(await listKeys(client, 'gold', `${GOLD_STATE_PREFIX}/trips/`)).toEqual(expect.arrayContaining(oldState));
      await rt.applyGold({ dataset: 'trips', switchTo });

      expect((await loadManifest(rt.s3, 'gold', 'trips')).generation).toBe(generation);
      const stateKeys = await listKeys(client, 'gold', `${GOLD_STATE_PREFIX}/trips/`);
      expect(stateKeys.filter((key) => key !== goldPendingTablesKey('trips'))).toEqual([goldManifestKey('trips')]);
    } finally {
      await lake.close();
    }
  });

  /** Raw -> silver with gold left out (the in-process queue is bypassed); returns the silver key. */
  async function ingestWithoutGold(lake: TestLakehouse, key: string, body: string): Promise<string> {
    const record = await lake.upload(key, body);
    const noGold = { ...lake.rt, gold: { submit: async () => {} } };
    const [outcome] = await handleS3Event(eventOf(record), noGold);
    if (outcome?.status !== 'ingested') throw new Error(`${key} was not ingested`);
    return outcome.silverKey;
  }

  // Live gold applies files in the order their jobs arrive; a backfill builds its generation by upload time.
  // The switch's catch-up re-applies, in live order, every file live applied since, the generation's own too.
  const A = tripsFile(0, 30, () => ({ fare: 10 }));
  const B = tripsFile(20, 50, () => ({ fare: 20 }));
  const A2 = tripsFile(0, 30, () => ({ fare: 30 }));
  it.each([
    {
      what: 'a file uploaded again unchanged while the backfill ran: its keys take its values again',
      before: [
        ['trips/a.csv', A],
        ['trips/b.csv', B],
      ],
      built: ['trips/a.csv', 'trips/b.csv'],
      during: [['trips/a.csv', A]],
    },
    {
      what: 'two versions of a file that arrived before the backfill listed raw: the newer keeps its keys',
      before: [['trips/b.csv', B]],
      built: ['trips/b.csv', 'trips/a.csv'],
      during: [
        ['trips/a.csv', A],
        ['trips/a.csv', A2],
      ],
    },
  ])('the switch ends with gold as live has it: $what', async ({ before, built, during }) => {
    const lake = await startTestLakehouse();
    try {
      const { rt } = lake;
      const trips = rt.datasets.get('trips') as Dataset;
      const silverOf = new Map<string, string>();
      const live = async ([key, body]: string[]) => {
        const [outcome] = await handleS3Event(eventOf(await lake.upload(key as string, body as string)), rt);
        if (outcome?.status !== 'ingested') throw new Error(`${key} was not ingested`);
        silverOf.set(key as string, outcome.silverKey);
      };
      for (const file of before) await live(file);
      const since = (await loadManifest(rt.s3, 'gold', 'trips')).version;
      for (const file of during) await live(file);
      // The generation, built from the raw objects as the backfill listed them (the current versions), oldest first.
      const generation = generationName('trips', 'test');
      const cache = new ObjectCache(join(lake.cfg.workDir, 'generation-cache'), 64 * 1024 * 1024);
      for (const key of built) {
        const silverKey = silverOf.get(key) as string;
        await applyToGold(
          { dataset: generation, silverKey },
          { ...trips, name: generation },
          { s3: rt.s3, cfg: rt.cfg, cache },
        );
      }
      const client = lake.s3.client();
      const goldLive = await rowsUnder(client, lake.cfg, 'gold', 'trips/');

      await rt.applyGold({ dataset: 'trips', switchTo: { generation, since } });

      expect((await loadManifest(rt.s3, 'gold', 'trips')).generation).toBe(generation);
      expect(await rowsUnder(client, lake.cfg, 'gold', 'trips/')).toEqual(goldLive);
    } finally {
      await lake.close();
    }
  });
});
