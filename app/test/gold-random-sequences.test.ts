import { goldManifestKey } from '@lakehouse/contract';
import fc from 'fast-check';
import { loadDatasets } from '../src/datasets';
import type { GoldManifest } from '../src/gold/gold-state';
import { handleS3Event } from '../src/handler';
import { BUCKETS, eventOf, startTestLakehouse } from './support/lakehouse';
import { csvOf, expectedGold, FC_SEED, fileArbitrary, goldLines } from './support/random-trips';

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
});
