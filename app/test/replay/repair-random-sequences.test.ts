import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import type { Dataset } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import { createS3Client } from '../../src/io/s3-io';
import { backfill } from '../../src/replay/backfill';
import { isWhole } from '../../src/replay/left-behind';
import type { PipelineTarget } from '../../src/replay/pipeline-target';
import { reconcile } from '../../src/replay/reconcile';
import type { Runtime } from '../../src/runtime';
import { startFaultProxy } from '../support/fault-proxy';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { csvOf, expectedGold, FC_SEED, fileArbitrary, goldLines, type Row } from '../support/random-trips';
import { dateRawObject, rowsUnder } from '../support/zones';

/**
 * The repair tools over random histories: whatever was lost, and whatever
 * arrived while they ran, gold ends as the live pipeline has it, a
 * recomputation from the files in the order gold applied them.
 */

/** The repair tools' entry points in process: the ingestion handler and the runtime's gold queue (in order, per dataset). */
function inProcess(rt: Runtime): PipelineTarget {
  return {
    async ingest(record) {
      await handleS3Event(eventOf(record), rt);
    },
    queueGold: (job) => rt.gold.submit(job),
  };
}

const deps = (lake: TestLakehouse) => ({
  s3: lake.rt.s3,
  zones: { raw: BUCKETS.raw, silver: BUCKETS.silver, gold: BUCKETS.gold },
  datasets: lake.rt.datasets,
  cfg: lake.cfg,
  target: inProcess(lake.rt),
});

/**
 * Uploads a file and runs the live pipeline on it (its gold job applied
 * before this returns); its silver key. Each upload is dated a second after
 * the one before, as files arrive in life: S3 dates objects to the second,
 * and files of one second are ordered by other means (see backfill).
 */
async function ingestLive(lake: TestLakehouse, key: string, rows: readonly Row[]): Promise<string> {
  const record = await lake.upload(key, csvOf(rows));
  const second = FIRST_UPLOAD + uploads++;
  await dateRawObject(lake.s3.directory, key, second);
  const [outcome] = await handleS3Event(eventOf(record), lake.rt);
  if (outcome?.status !== 'ingested') throw new Error(`${key}: ${JSON.stringify(outcome)}`);
  return outcome.silverKey;
}
const FIRST_UPLOAD = Math.floor(Date.now() / 1000) - 86_400;
let uploads = 0;

describe('the repair tools over random histories', () => {
  it('reconcile after silver objects were lost: silver back as it was, gold untouched and exact, nothing left', async () => {
    const history = fc.array(fc.record({ rows: fileArbitrary(), silverLost: fc.boolean() }), {
      minLength: 2,
      maxLength: 7,
    });
    await fc.assert(
      fc.asyncProperty(history, async (files) => {
        const lake = await startTestLakehouse();
        try {
          const silverKeys: string[] = [];
          for (const [n, file] of files.entries())
            silverKeys.push(await ingestLive(lake, `trips/f${n}.csv`, file.rows));
          const client = lake.s3.client();
          const silver = await rowsUnder(client, lake.cfg, BUCKETS.silver, 'trips/');
          const gold = await goldLines(lake);
          expect(gold).toEqual(expectedGold(files.map((file) => file.rows)));
          const lost = silverKeys.filter((_, n) => files[n]?.silverLost);
          for (const key of lost) await client.send(new DeleteObjectCommand({ Bucket: BUCKETS.silver, Key: key }));

          const report = await reconcile(deps(lake), { waitMs: 30_000, pollMs: 50 });

          expect(report.replayed).toEqual({ events: lost.length, goldJobs: 0 });
          expect(report.remaining === undefined || isWhole(report.remaining)).toBe(true);
          expect(await rowsUnder(client, lake.cfg, BUCKETS.silver, 'trips/')).toEqual(silver);
          expect(await goldLines(lake)).toEqual(gold);
          expect(isWhole((await reconcile(deps(lake), { dryRun: true })).found)).toBe(true);
        } finally {
          await lake.close();
        }
      }),
      { numRuns: 8, seed: FC_SEED, endOnFailure: true },
    );
  }, 180_000);

  /**
   * Where a file arrives during a backfill: before it lists raw, just before
   * it reads the raw object of the same key, or after it rebuilt silver
   * (gold not yet built). The arrival's request is held back at the proxy
   * until the live pipeline has applied the file, so each race ends one known way.
   */
  type Moment = 'before-list' | 'before-read' | 'after-silver';
  /** A new file, the same file uploaded again unchanged, or a new version of it (the same trips, other fares). */
  type Kind = 'new' | 'again' | 'version';
  const arrival = fc.record({
    moment: fc.constantFrom<Moment>('before-list', 'before-read', 'after-silver'),
    kind: fc.constantFrom<Kind>('new', 'again', 'again', 'version', 'version'),
    of: fc.nat(),
    rows: fileArbitrary(),
  });

  it('a backfill while files arrive ends with gold as the live pipeline has it, each file in the order gold applied it', async () => {
    const histories = fc.record({
      initial: fc.array(fileArbitrary(), { minLength: 2, maxLength: 5 }),
      arrivals: fc.array(arrival, { minLength: 1, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(histories, async ({ initial, arrivals }) => {
        const lake = await startTestLakehouse();
        const proxy = await startFaultProxy(lake.s3.endpoint);
        const s3 = createS3Client({ s3Endpoint: proxy.endpoint, region: 'us-east-1' });
        try {
          // Every file as live gold applied it, in order; each key's current content.
          const applied: Row[][] = [];
          const current = new Map<string, Row[]>();
          const live = async (key: string, rows: Row[]) => {
            applied.push(rows);
            current.set(key, rows);
            await ingestLive(lake, key, rows);
          };
          for (const [n, rows] of initial.entries()) await live(`trips/f${n}.csv`, rows);

          let chain: Promise<unknown> = Promise.resolve();
          const arrived = new Set<(typeof arrivals)[number]>();
          const arrive = (arrivalsNow: typeof arrivals) => {
            for (const a of arrivalsNow) {
              if (arrived.has(a)) continue;
              arrived.add(a);
              const { kind, of, rows } = a;
              const late = `trips/late-${arrived.size}.csv`;
              chain = chain.then(() => {
                if (kind === 'new') return live(late, rows);
                const key = `trips/f${of % initial.length}.csv`;
                const was = current.get(key) as Row[];
                return live(key, kind === 'again' ? was : was.map((row) => ({ ...row, fare: row.fare + 1 })));
              });
            }
            return chain;
          };
          const at = (moment: Moment) => arrivals.filter((a) => a.moment === moment);
          // Held: the backfill's first request to raw, its read of a key, its first request after silver.
          proxy.inject({
            method: 'GET',
            bucket: BUCKETS.raw,
            fault: { until: () => arrive(at('before-list')) },
            times: 1,
          });
          for (const a of at('before-read')) {
            const key = `trips/f${a.of % initial.length}.csv`;
            proxy.inject({ method: 'GET', bucket: BUCKETS.raw, key, fault: { until: () => arrive([a]) }, times: 1 });
          }
          const report = await backfill(
            lake.rt.datasets.get('trips') as Dataset,
            { ...deps(lake), s3 },
            {
              waitMs: 30_000,
              pollMs: 50,
              say: (line) => {
                if (line.startsWith('silver:')) {
                  proxy.inject({
                    method: 'GET',
                    bucket: BUCKETS.gold,
                    fault: { until: () => arrive(at('after-silver')) },
                    times: 1,
                  });
                }
              },
            },
          );
          // Two arrivals held for the read of one key: the backfill read it once, the second lands now.
          await arrive(arrivals);

          expect(report.switched).toBe(true);
          expect(applied.length).toBe(initial.length + arrivals.length);
          expect(await goldLines(lake)).toEqual(expectedGold(applied));
          expect(isWhole((await reconcile(deps(lake), { dryRun: true })).found)).toBe(true);
        } finally {
          s3.destroy();
          await proxy.close();
          await lake.close();
        }
      }),
      { numRuns: 8, seed: FC_SEED, endOnFailure: true },
    );
  }, 240_000);
});
