import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeTrips } from '../../local/trip-generator';
import { loadConfig } from '../../src/config';
import { loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { freeBytes, goldCacheFolder, invocationFolder, removeLeftovers } from '../../src/io/work-dir';
import { createRuntime, type Runtime } from '../../src/runtime';
import { expectCleanOutcome } from '../faults/outcome-checks';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';

const MB = 1024 * 1024;

describe('temp storage', () => {
  describe('on a small disk (a real 48 MB tmpfs as WORK_DIR)', () => {
    let lake: TestLakehouse;
    let rt: Runtime;
    let small: string;

    beforeAll(async () => {
      lake = await startTestLakehouse(loadDatasets());
      small = await mkdtemp(join(tmpdir(), 'small-disk-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', small]);
      rt = createRuntime(loadConfig({ ...lake.env, WORK_DIR: small }), lake.rt.datasets);
    });
    afterAll(async () => {
      execFileSync('umount', [small]);
      await rm(small, { recursive: true, force: true });
      await lake.close();
    });

    /**
     * A real ENOSPC: the small disk fills up (another tenant's file of
     * ballast, 64 KB left) as a GET of a key that `when` picks goes out.
     * Returns what empties it again.
     */
    function fillTheDiskOnGet(when: (key: string) => boolean): () => Promise<void> {
      const ballast = join(small, 'ballast');
      rt.s3.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'GetObjectCommand' && when(String((args.input as { Key?: string }).Key))) {
            writeFileSync(ballast, Buffer.alloc(Math.max(0, (await freeBytes(small)) - 64 * 1024)));
          }
          return next(args);
        },
        { step: 'initialize', name: 'fillTheDisk' },
      );
      return async () => {
        rt.s3.middlewareStack.remove('fillTheDisk');
        await rm(ballast, { force: true });
      };
    }

    /** What invocations left in the work dir (DuckDB's own folder aside). */
    const leftovers = () => readdirSync(small).filter((entry) => entry !== 'duckdb');

    it('quarantines a file that cannot fit, saying what to raise, without downloading it', async () => {
      const path = join(lake.cfg.workDir, 'big.csv');
      const { bytes } = await writeTrips(path, { rows: 500_000 });
      expect(bytes).toBeGreaterThan(24 * MB);
      const uploaded = readFileSync(path);
      const record = await lake.upload('trips/too-big.csv', uploaded);

      const [outcome] = await handleS3Event(eventOf(record), rt);

      expect(outcome).toMatchObject({ status: 'quarantined', reason: 'too-large' });
      expect((outcome as { error: string }).error).toMatch(
        /the object is \d+ MB and needs about \d+ MB of temp storage .* WORK_DIR has \d+ MB free: raise the function's ephemeral_storage_size/,
      );
      expect(leftovers()).toEqual([]);
      await expectCleanOutcome(lake, record, uploaded, outcome, small);
    });

    it('quarantines a decompression bomb once it decompresses past the free temp storage', async () => {
      // 200 gzip members of 1 MB of rows each: 200 MB of CSV from a file of a few hundred KB.
      const member = gzipSync(Buffer.from('1,2\n'.repeat(256 * 1024)));
      const bomb = Buffer.concat([gzipSync('a,b\n'), ...Array.from({ length: 200 }, () => member)]);
      expect(bomb.length).toBeLessThan(MB);
      const record = await lake.upload('people/bomb.csv.gz', bomb);

      const [outcome] = await handleS3Event(eventOf(record), rt);

      expect(outcome).toMatchObject({ status: 'quarantined', reason: 'too-large' });
      expect((outcome as { error: string }).error).toMatch(
        /^gzip data that decompresses to more than \d+ MB \(the \d+ MB of temp storage free for its rows; a decompression bomb/,
      );
      expect(leftovers()).toEqual([]);
      await expectCleanOutcome(lake, record, bomb, outcome, small);
    });

    it('quarantines a file in chunks whose parts cannot fit for its commit, saying what to raise, no part left', async () => {
      const path = join(lake.cfg.workDir, 'chunked.csv');
      const { bytes } = await writeTrips(path, { rows: 200_000 });
      const uploaded = readFileSync(path);
      const record = await lake.upload('trips/chunked-too-big.csv', uploaded);
      // 3 MB free: room for two chunks of 512 KB at a time, not for the parts of all of them (about a sixth of 11 MB) and silver beside them.
      const ballast = join(small, 'ballast');
      writeFileSync(ballast, Buffer.alloc((await freeBytes(small)) - 3 * MB));
      const chunked: Runtime = { ...rt, chunks: { chunkBytes: 512 * 1024, concurrency: 2, retryDelaysMs: [] } };

      let outcome: IngestOutcome | undefined;
      try {
        [outcome] = await handleS3Event(eventOf(record), chunked);
      } finally {
        await rm(ballast, { force: true });
      }

      expect(bytes).toBeGreaterThan(11 * MB);
      expect(outcome).toMatchObject({ status: 'quarantined', reason: 'too-large', chunks: expect.any(Number) });
      expect((outcome as { error: string }).error).toMatch(
        /^its \d+ chunks staged \d+ MB of rows, and publishing them needs about \d+ MB of temp storage .* WORK_DIR has 3 MB free: raise ephemeral_storage_size/,
      );
      expect(await lake.list(BUCKETS.silver, '_chunks/')).toEqual([]);
      expect(leftovers()).toEqual([]);
    });

    it('quarantines a file in chunks when the disk fills up during its commit, and leaves no part behind', async () => {
      const path = join(lake.cfg.workDir, 'chunked-fills.csv');
      await writeTrips(path, { rows: 60_000 });
      const uploaded = readFileSync(path);
      const record = await lake.upload('trips/chunked-fills-the-disk.csv', uploaded);
      const chunked: Runtime = { ...rt, chunks: { chunkBytes: 1024 * 1024, concurrency: 2, retryDelaysMs: [] } };
      // Every part fits by the commit's estimate; then the disk fills as the first part comes down.
      const emptyTheDisk = fillTheDiskOnGet((key) => key.includes('/staged-'));

      let outcome: IngestOutcome | undefined;
      try {
        [outcome] = await handleS3Event(eventOf(record), chunked);
      } finally {
        await emptyTheDisk();
      }

      expect(outcome).toMatchObject({ status: 'quarantined', reason: 'too-large', chunks: expect.any(Number) });
      expect((outcome as { chunks: number }).chunks).toBeGreaterThan(2);
      expect((outcome as { error: string }).error).toMatch(
        /^ran out of temp storage publishing the \d+ MB of rows its \d+ chunks staged \(0 MB free in WORK_DIR before cleanup\): raise ephemeral_storage_size/,
      );
      expect(await lake.list(BUCKETS.silver, '_chunks/')).toEqual([]);
      expect(leftovers()).toEqual([]);
      await expectCleanOutcome(lake, record, uploaded, outcome, small);
    });

    it('quarantines a file when the disk fills up while it is processed, and leaves nothing behind', async () => {
      const uploaded = Buffer.from(
        'trip_id,pickup_at,distance_km,fare,passengers,payment_type,pickup_zone\n' +
          't1,2026-01-15 08:30:00,3.5,12.5,1,card,Downtown\n'.repeat(20_000),
      );
      const record = await lake.upload('trips/fills-the-disk.csv', uploaded);
      // The disk fills just as the download starts.
      const emptyTheDisk = fillTheDiskOnGet(() => true);

      let outcome: IngestOutcome | undefined;
      try {
        [outcome] = await handleS3Event(eventOf(record), rt);

        expect(outcome).toMatchObject({ status: 'quarantined', reason: 'too-large' });
        expect((outcome as { error: string }).error).toMatch(
          /ran out of temp storage .* raise the function's ephemeral_storage_size/,
        );
      } finally {
        await emptyTheDisk();
      }
      expect(leftovers()).toEqual([]);
      await expectCleanOutcome(lake, record, uploaded, outcome, small);
    });
  });

  it("clears what earlier invocations left behind, and only that, at a container's start", async () => {
    const work = await mkdtemp(join(tmpdir(), 'leftovers-'));
    try {
      // Every kind of work folder, made as the work makes it.
      for (const kind of ['ingest', 'gold', 'ledger', 'plan', 'commit'] as const) await invocationFolder(work, kind);
      await invocationFolder(work, 'chunk', '3');
      mkdirSync(goldCacheFolder(work, 'c3'));
      for (const dir of ['duckdb/spill', 'duckdb/home', 'keep-me', 'chunks-of-mine']) {
        mkdirSync(join(work, dir), { recursive: true });
      }
      expect(readdirSync(work)).toHaveLength(10);
      writeFileSync(join(work, 'duckdb', 'spill', 'duckdb_temp_block-1.block'), 'x');
      writeFileSync(join(work, 'notes.txt'), 'x');

      removeLeftovers(work);

      expect(readdirSync(work).sort()).toEqual(['chunks-of-mine', 'duckdb', 'keep-me', 'notes.txt']);
      expect(readdirSync(join(work, 'duckdb')).sort()).toEqual(['home', 'spill']);
      expect(readdirSync(join(work, 'duckdb', 'spill'))).toEqual([]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
