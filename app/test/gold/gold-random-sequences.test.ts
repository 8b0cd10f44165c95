import { goldManifestKey } from '@lakehouse/contract';
import type { S3EventRecord } from 'aws-lambda';
import fc from 'fast-check';
import { loadDatasets } from '../../src/datasets';
import type { GoldManifest } from '../../src/gold/gold-state';
import { handleS3Event } from '../../src/handler';
import { BUCKETS, eventOf, startTestLakehouse } from '../support/lakehouse';
import { csvOf, expectedGold, FC_SEED, fileArbitrary, goldLines } from '../support/random-trips';
import { dateRawObject } from '../support/zones';

/** Enough files that the days cross compaction (more than 8 segments) and the index merges its runs. */
const filesArbitrary = fc.array(fileArbitrary(), { minLength: 14, maxLength: 22 });

describe('gold over random sequences of files: exactly a recomputation from the files, after every file', () => {
  it('holds through repeated and moving trips, rejected rows, compaction and index merges', async () => {
    let compactions = 0;
    let mergedRuns = 0;
    await fc.assert(
      fc.asyncProperty(filesArbitrary, async (files) => {
        const lake = await startTestLakehouse(loadDatasets());
        try {
          for (const [n, rows] of files.entries()) {
            await handleS3Event(eventOf(await lake.upload(`trips/seq-${n}.csv`, csvOf(rows))), lake.rt);
            expect(await goldLines(lake)).toEqual(expectedGold(files.slice(0, n + 1)));
          }
          const manifest = JSON.parse(await lake.getText(BUCKETS.gold, goldManifestKey('trips'))) as GoldManifest;
          compactions += manifest.segments.filter((segment) => segment.compacted).length;
          mergedRuns += manifest.index.filter((run) => run.name.endsWith('-merged')).length;
        } finally {
          await lake.close();
        }
      }),
      { numRuns: 4, seed: FC_SEED, endOnFailure: true },
    );
    // The sequences reached what they are here for.
    expect(compactions).toBeGreaterThan(0);
    expect(mergedRuns).toBeGreaterThan(0);
  }, 180_000);

  it('keeps the row of the file uploaded last, whatever order files reach gold in (the same second: the one applied last)', async () => {
    // Each file: its rows, its upload second (few seconds, so some share one), and when it reaches gold.
    const arrivals = fc
      .array(fc.record({ rows: fileArbitrary(), second: fc.integer({ min: 0, max: 4 }), order: fc.nat() }), {
        minLength: 10,
        maxLength: 16,
      })
      .map((files) => ({
        files,
        order: files.map((_, n) => n).sort((a, b) => (files[a]?.order ?? 0) - (files[b]?.order ?? 0) || a - b),
      }));
    let late = 0;
    await fc.assert(
      fc.asyncProperty(arrivals, async ({ files, order }) => {
        const lake = await startTestLakehouse(loadDatasets());
        try {
          const base = Math.floor(Date.now() / 1000) - 3600;
          const records = [];
          for (const [n, file] of files.entries()) {
            records.push(await lake.upload(`trips/late-${n}.csv`, csvOf(file.rows)));
            const at = base + file.second;
            await dateRawObject(lake.s3.directory, `trips/late-${n}.csv`, at);
          }
          const applied: number[] = [];
          for (const n of order) {
            await handleS3Event(eventOf(records[n] as S3EventRecord), lake.rt);
            applied.push(n);
            const byUpload = [...applied].sort(
              (a, b) => (files[a]?.second ?? 0) - (files[b]?.second ?? 0) || applied.indexOf(a) - applied.indexOf(b),
            );
            expect(await goldLines(lake)).toEqual(expectedGold(byUpload.map((i) => files[i]?.rows ?? [])));
          }
          // Files that reached gold after a file uploaded later that shares a trip with them.
          const trips = (n: number) => new Set(files[n]?.rows.filter((row) => row.valid).map((row) => row.id));
          late += order.filter((n, i) =>
            order
              .slice(0, i)
              .some(
                (m) =>
                  (files[m]?.second ?? 0) > (files[n]?.second ?? 0) && [...trips(m)].some((id) => trips(n).has(id)),
              ),
          ).length;
        } finally {
          await lake.close();
        }
      }),
      { numRuns: 3, seed: FC_SEED, endOnFailure: true },
    );
    // The sequences reached what they are here for.
    expect(late).toBeGreaterThan(0);
  }, 180_000);
});
