import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { goldPartitionKey, SOURCE_LAST_MODIFIED_METADATA } from '@lakehouse/contract';
import type { Config } from '../config';
import type { Dataset } from '../datasets';
import { SourceGoneError } from '../errors';
import { copyRows, sqlIdentifier, sqlString, withConnection } from '../io/duckdb';
import type { ObjectCache } from '../io/object-cache';
import { copyObject, deleteObject, downloadToFile, inParallel, PARQUET_TYPE, settled, uploadFile } from '../io/s3-io';
import { invocationFolder } from '../io/work-dir';
import { indexRunsToMerge, shouldCompact, smallestRunsToMerge } from './compaction';
import {
  type CommitObject,
  commitObjectKey,
  commitObjectKeys,
  commitObjectName,
  type DeletesEntry,
  deleteStateObjects,
  deletesOf,
  dropPartitions,
  type GoldManifest,
  holdsOnlyServed,
  type IndexRun,
  loadManifest,
  loadPendingTables,
  markTablesPending,
  newSegment,
  runsMeeting,
  type SegmentEntry,
  type StateObject,
  saveManifest,
  segmentsOf,
  stateKey,
  stateObjectsOf,
  tablesLeftPending,
} from './gold-state';
import { partitionText, rowsByPartition, writeGoldTables } from './gold-tables';
import { keyRange } from './key-range';
import { isNewState, migrateFormat1 } from './migrate-state';
import { runsWithUploadTimes } from './state-runs';

/** One silver file to fold into its dataset's gold tables. */
export interface GoldJob {
  dataset: string;
  silverKey: string;
}

export interface GoldResult {
  /** Partitions rebuilt. */
  partitions: string[];
  /** Keys the file brought. */
  keys: number;
  /** State commits so far, this one included. */
  version?: number;
  compacted?: boolean;
}

/** Uploads and deletes at once. */
const PARALLEL_TRANSFERS = 8;

export interface GoldDeps {
  s3: S3Client;
  cfg: Pick<Config, 'silverBucket' | 'goldBucket' | 'workDir' | 'duckdb'>;
  cache: ObjectCache;
}

/**
 * Folds one silver file into gold as one commit of the dataset's state (see
 * gold-state.ts). Work and writes are proportional to the file and to the
 * partitions it touches, never to the whole dataset:
 *
 * 1. the file's last row per key -> an index run; the runs whose key range
 *    meets the file's give the keys' previous rows, which are retired (deletes);
 * 2. the silver object is copied server-side as the commit's segment;
 * 3. the touched partitions (the file's and those its keys left) are rebuilt
 *    from their live rows, and rewritten as one segment when reading them has
 *    grown wasteful (compaction); index runs are merged as they accumulate;
 * 4. the manifest is written last: a job cut short leaves it as it was, and
 *    its retry (same commit number) rewrites the same objects.
 *
 * Callers serialise jobs per dataset (SQS FIFO group on AWS, a queue locally).
 * Each key counts once; a key seen again takes the values of the file uploaded
 * last (S3's LastModified; files of the same second: the one applied last).
 */
export async function applyToGold(job: GoldJob, dataset: Dataset, deps: GoldDeps): Promise<GoldResult> {
  if (!dataset.key || !dataset.partition) throw new Error(`dataset ${dataset.name} has no key or partition for gold`);
  const { s3, cfg, cache } = deps;
  const dir = await invocationFolder(cfg.workDir, 'gold');
  const pinned: string[] = [];
  try {
    const silverPath = join(dir, 'silver.parquet');
    // One round trip: on AWS a small file's commit is mostly S3 latency, paid one file at a time.
    const [manifest, pending, silver] = await settled([
      loadManifest(s3, cfg.goldBucket, dataset.name),
      loadPendingTables(s3, cfg.goldBucket, dataset.name),
      downloadToFile(s3, { bucket: cfg.silverBucket, key: job.silverKey }, silverPath).catch((error) => {
        if (error instanceof SourceGoneError) return undefined;
        throw error;
      }),
    ] as const);
    if (!silver) return { partitions: [], keys: 0 };
    const leftPending = new Set(tablesLeftPending(manifest, pending));
    const commit = new Commit(dataset, manifest, dir, deps, pinned, leftPending);
    const silverFile = { path: silverPath, eTag: silver.eTag, uploadedAt: uploadedAtOf(silver.metadata) };
    try {
      return await withConnection(cfg, (connection) => commit.run(connection, job, silverFile));
    } finally {
      // A job that failed leaves no request behind to land during the next one (its retry's copy, its mark).
      await commit.settle();
    }
  } finally {
    cache.release(pinned);
    await rm(dir, { recursive: true, force: true });
  }
}

/** One gold update: the steps of applyToGold over one DuckDB connection. */
class Commit {
  private readonly id: number;
  private readonly k: string;
  /** The partition of a silver row, as text. */
  private readonly partitionOf: string;
  /** State objects to upload before the manifest names them. */
  private readonly uploads: Array<{ key: string; path: string; entry: StateObject }> = [];
  private readonly garbage: StateObject[] = [];
  /** Requests sent ahead of where they are awaited (see `sent`). */
  private readonly inFlight: Array<Promise<unknown>> = [];
  /** The gold tables rewritten: their pending mark (sent) and their objects (uploaded or deleted by commit). */
  private tables?: { mark: Promise<void>; writes: Array<{ key: string; file: string | undefined }> };

  constructor(
    private readonly dataset: Dataset,
    private readonly manifest: GoldManifest,
    private readonly dir: string,
    private readonly deps: GoldDeps,
    private readonly pinned: string[],
    /** Partitions an attempt at this commit number, cut short, may have left tables of: rebuilt whatever the file. */
    private readonly leftPending: ReadonlySet<string>,
  ) {
    this.id = manifest.version + 1;
    this.k = sqlIdentifier(dataset.key as string);
    this.partitionOf = partitionText((dataset.partition as NonNullable<Dataset['partition']>).expression);
  }

  async run(connection: DuckDBConnection, job: GoldJob, silver: SilverFile): Promise<GoldResult> {
    const { s3, cfg } = this.deps;
    const { path: silverPath, eTag: silverETag, uploadedAt } = silver;
    await connection.run(
      `create or replace temp view silver_rows as
       select * from read_parquet(${sqlString(silverPath)}) where ${this.k} is not null`,
    );
    if (isNewState(this.manifest)) await this.adoptFormat1(connection);
    await this.retireRepeatedKeys(connection);
    const run = await this.writeIndexRun(connection, uploadedAt);
    await this.recordApplied(connection, job.silverKey, uploadedAt);
    if (run.rows === 0) return this.commitLedgerOnly(connection, run);
    const segmentKey = this.key({ kind: 'segments', suffix: '' });
    // Server-side: the silver bytes never pass through the function again.
    const copied = this.sent(
      copyObject(
        s3,
        { bucket: cfg.silverBucket, key: job.silverKey, eTag: silverETag },
        { bucket: cfg.goldBucket, key: segmentKey },
        PARQUET_TYPE,
      ),
    );

    const moved = await this.retireReplacedRows(connection, run, uploadedAt);
    if (run.rows === 0) {
      // Files uploaded after this one hold every key it has: its copy goes too.
      await copied;
      this.garbage.push({ key: segmentKey, eTag: '', rows: 0 });
      return this.commitLedgerOnly(connection, run);
    }
    const touched = [
      ...new Set([
        ...(await strings(
          connection,
          `select distinct _partition from read_parquet(${sqlString(run.path)})
           union select distinct _partition from retired where _segment < ${this.id}`,
        )),
        ...this.leftPending,
      ]),
    ].sort();
    const deletes = await this.writeDeletes(connection);
    const segment = newSegment({
      id: this.id,
      key: segmentKey,
      eTag: (await copied).eTag,
      rows: await count(connection, `select 1 from read_parquet(${sqlString(silverPath)})`),
      compacted: false,
      // Every keyed row the file holds: those a later row of their key retired in it too, in whatever partition.
      partitions: await rowsByPartition(
        connection,
        {
          sql: `select _partition from read_parquet(${sqlString(run.path)})
                union all select _partition from retired where _segment = ${this.id}`,
        },
        '_partition',
      ),
    });
    this.pin(await this.deps.cache.put({ bucket: cfg.goldBucket, key: segment.key, eTag: segment.eTag }, silverPath));
    this.manifest.segments.push(segment);
    if (deletes) this.manifest.deletes.push(deletes);
    this.manifest.index.push(run.entry);

    const compacted = await this.rebuild(connection, new Set(touched), moved, segment);
    await this.mergeIndexRuns(connection);
    await this.commit();
    return { partitions: touched, keys: run.rows, version: this.id, compacted };
  }

  /**
   * No row to fold in: gold stays as it is (but for the tables a cut attempt
   * may have left), and the ledger must still say the file was applied.
   */
  private async commitLedgerOnly(connection: DuckDBConnection, run: IndexRunFile): Promise<GoldResult> {
    this.discard([run.entry]);
    if (this.leftPending.size > 0) await this.writeTables(connection, this.leftPending);
    await this.commit();
    return { partitions: [...this.leftPending].sort(), keys: 0, version: this.id };
  }

  /**
   * Uploads the new state objects and the rewritten tables, writes the
   * manifest (the commit point), then deletes what it no longer names. Requests
   * that do not depend on each other go at once: on AWS a small file's commit
   * is mostly S3 latency, paid one file at a time. Before the manifest, what no
   * manifest will name again goes for good: what the last commit let go of
   * (its cleanup may have been cut short), and the names of this commit it
   * does not use (an attempt at it, cut before its manifest, may have written them).
   */
  private async commit(): Promise<void> {
    const { s3, cfg } = this.deps;
    const named = new Set(stateObjectsOf(this.manifest).map((object) => object.key));
    const unused = commitObjectKeys(this.dataset.name, this.id).filter((key) => !named.has(key));
    // Different keys, so one round trip: the new state objects, what goes for good, the tables' pending mark.
    await settled([
      inParallel(this.uploads, PARALLEL_TRANSFERS, async (upload) => {
        const { eTag } = await uploadFile(s3, cfg.goldBucket, upload.key, upload.path, PARQUET_TYPE);
        upload.entry.eTag = eTag;
        // The next commit on this container reads it from here.
        this.pin(await this.deps.cache.put({ bucket: cfg.goldBucket, key: upload.key, eTag }, upload.path));
      }),
      deleteStateObjects(this.deps, [...(this.manifest.garbage ?? []), ...unused]),
      this.tables?.mark ?? Promise.resolve(),
    ]);
    // Only after the mark: tables a commit cut short leaves ahead of its state are always marked.
    await inParallel(this.tables?.writes ?? [], PARALLEL_TRANSFERS, async ({ key, file }) => {
      await (file ? uploadFile(s3, cfg.goldBucket, key, file, PARQUET_TYPE) : deleteObject(s3, cfg.goldBucket, key));
    });
    const garbage = this.garbage.map((object) => object.key);
    this.manifest.version = this.id;
    this.manifest.garbage = garbage;
    await saveManifest(s3, cfg.goldBucket, this.manifest);
    // Unreferenced now; if this is cut short, the next commit deletes them.
    await Promise.allSettled(garbage.map((key) => deleteObject(s3, cfg.goldBucket, key)));
  }

  /** The commit's run of the applied ledger: the silver file it applied, and its upload time (reconcile reads it). */
  private async recordApplied(
    connection: DuckDBConnection,
    silverKey: string,
    uploadedAt: number | undefined,
  ): Promise<void> {
    const path = join(this.dir, 'applied.parquet');
    const rows = await copyRows(
      connection,
      `select ${sqlString(silverKey)} as silver_key, ${this.id}::bigint as _commit,
              ${uploadedAt ?? 'null'}::bigint as _uploaded_at`,
      path,
    );
    const key = this.key({ kind: 'applied', suffix: '' });
    const entry: StateObject = { key, eTag: '', rows };
    this.manifest.applied.runs.push(entry);
    this.uploads.push({ key, path, entry });
  }

  /** A dataset updated by an earlier version keeps its gold: its format 1 state joins this commit. */
  private async adoptFormat1(connection: DuckDBConnection): Promise<void> {
    const { s3, cfg } = this.deps;
    const migrated = await migrateFormat1(connection, s3, cfg.goldBucket, this.dataset, this.dir);
    if (!migrated) return;
    const key = stateKey(this.dataset.name, 'segments', '0-migrated');
    const segment = newSegment({
      id: 0,
      key,
      eTag: '',
      rows: migrated.rows,
      compacted: true,
      partitions: migrated.partitions,
    });
    this.manifest.segments.push(segment);
    this.uploads.push({ key, path: migrated.segmentPath, entry: segment });
    this.manifest.index.push(await this.runEntry(connection, migrated.runPath, '0-migrated', migrated.rows));
    this.garbage.push(...migrated.superseded);
  }

  /**
   * `retired` starts with the rows of this file that a later row of the same
   * key replaces. Repeats are found on 64-bit hashes (a fixed-width table,
   * far smaller than one of keys); only rows whose hash repeats are compared
   * by key, so a hash collision costs a comparison, never a wrong answer.
   */
  private async retireRepeatedKeys(connection: DuckDBConnection): Promise<void> {
    await connection.run(
      'create or replace temp table retired (_segment bigint, _source_row bigint, _partition varchar)',
    );
    await connection.run(
      `create or replace temp table repeated as
       select hash(${this.k}) as h from silver_rows group by 1 having count(*) > 1`,
    );
    await connection.run(
      `insert into retired
       select ${this.id}::bigint, _source_row, ${this.partitionOf}
       from (select *, max(_source_row) over (partition by ${this.k}) as _last
             from silver_rows where hash(${this.k}) in (select h from repeated))
       where _source_row < _last`,
    );
  }

  /**
   * The file's last row per key, with its partition and its raw object's
   * upload time: the commit's index run (and the file's keys).
   */
  private async writeIndexRun(connection: DuckDBConnection, uploadedAt: number | undefined): Promise<IndexRunFile> {
    const path = join(this.dir, 'run.parquet');
    const repeats = await count(connection, 'select 1 from retired');
    const rows = await copyRows(
      connection,
      `select cast(${this.k} as varchar) as key, ${this.partitionOf} as _partition,
              ${this.id}::bigint as _segment, _source_row, ${uploadedAt ?? 'null'}::bigint as _uploaded_at
       from silver_rows ${repeats > 0 ? 'where _source_row not in (select _source_row from retired)' : ''}`,
      path,
    );
    const entry = await this.runEntry(connection, path, commitObjectName(this.id, { kind: 'index', suffix: '' }), rows);
    return { path, rows, entry };
  }

  private async runEntry(connection: DuckDBConnection, path: string, name: string, rows: number): Promise<IndexRun> {
    const range = await keyRange(connection, path);
    const key = stateKey(this.dataset.name, 'index', name);
    const entry: IndexRun = { key, name, eTag: '', rows, minKey: range.lo, maxKey: range.hi };
    this.uploads.push({ key, path, entry });
    return entry;
  }

  /**
   * Adds to `retired` the current rows (in earlier commits) of the file's
   * keys, found in the index runs whose key range meets the file's: each key
   * keeps the row of the file uploaded last. Where a file uploaded after this
   * one holds a key (this one reached gold late), this file's row is retired
   * instead, and its run leaves the key out. Returns the partitions keys left.
   */
  private async retireReplacedRows(
    connection: DuckDBConnection,
    run: IndexRunFile,
    uploadedAt: number | undefined,
  ): Promise<Set<string>> {
    const runs = runsMeeting(this.manifest, run.entry.minKey, run.entry.maxKey);
    if (runs.length > 0) {
      const paths = await this.fetch(runs);
      await connection.run(
        `create or replace temp table replaced as
         select key, max(_segment) as _segment, arg_max(_source_row, _segment) as _source_row,
                arg_max(_partition, _segment) as _partition, arg_max_null(_uploaded_at, _segment) as _uploaded_at
         from ${await runsWithUploadTimes(connection, paths)}
         where key in (select key from read_parquet(${sqlString(run.path)}))
         group by key`,
      );
      const newer = uploadedAt === undefined ? 'false' : `_uploaded_at > ${uploadedAt}`;
      if (uploadedAt !== undefined && (await count(connection, `select 1 from replaced where ${newer}`)) > 0) {
        await this.yieldToNewer(connection, run, newer);
      }
      await connection.run(
        `insert into retired select _segment, _source_row, _partition from replaced where not coalesce(${newer}, false)`,
      );
    }
    return new Set(await strings(connection, `select distinct _partition from retired where _segment < ${this.id}`));
  }

  /** The file's rows of keys that files uploaded after it hold: retired on arrival, and left out of its run. */
  private async yieldToNewer(connection: DuckDBConnection, run: IndexRunFile, newer: string): Promise<void> {
    const kept = join(this.dir, 'run-kept.parquet');
    const runFile = `read_parquet(${sqlString(run.path)})`;
    const held = `(select key from replaced where ${newer})`;
    await connection.run(
      `insert into retired
       select ${this.id}::bigint, r._source_row, r._partition from ${runFile} r semi join ${held} h on r.key = h.key`,
    );
    run.rows = await copyRows(connection, `select r.* from ${runFile} r anti join ${held} h on r.key = h.key`, kept);
    await rename(kept, run.path);
    const range = await keyRange(connection, run.path);
    Object.assign(run.entry, { rows: run.rows, minKey: range.lo, maxKey: range.hi });
  }

  private async writeDeletes(connection: DuckDBConnection): Promise<DeletesEntry | undefined> {
    const path = join(this.dir, 'deletes.parquet');
    const rows = await copyRows(connection, 'select _segment, _source_row, _partition from retired', path);
    if (rows === 0) return undefined;
    const key = this.key({ kind: 'deletes', suffix: '' });
    const entry: DeletesEntry = {
      id: this.id,
      key,
      eTag: '',
      rows,
      partitions: await strings(connection, 'select distinct _partition from retired order by 1'),
    };
    this.uploads.push({ key, path, entry });
    return entry;
  }

  /**
   * Rebuilds the gold tables of the touched partitions from their live rows;
   * compacts them when reading them has grown wasteful. A partition left
   * with no live row loses its gold objects and its state.
   */
  private async rebuild(
    connection: DuckDBConnection,
    partitions: Set<string>,
    left: ReadonlySet<string>,
    segment: SegmentEntry,
  ): Promise<boolean> {
    await this.writeTables(connection, partitions);

    // Only a partition some key left, and this file brings nothing to, can have emptied.
    const emptied = new Set([...left].filter((p) => !segment.partitions[p]));
    if (emptied.size > 0) {
      const remaining = new Set(
        await strings(
          connection,
          `select distinct ${this.partitionOf} from live_rows where ${this.partitionOf} in ${inList(emptied)}`,
        ),
      );
      for (const p of remaining) emptied.delete(p);
      this.discard(dropPartitions(this.manifest, emptied));
    }

    const live = new Set([...partitions].filter((p) => !emptied.has(p)));
    if (live.size === 0 || !shouldCompact(segmentsOf(this.manifest, live), deletesOf(this.manifest, live), live)) {
      return false;
    }
    await this.compact(connection, live);
    return true;
  }

  /**
   * Rewrites the gold tables of `partitions` from their live rows (left in
   * `live_rows`); commit uploads them. They are marked pending first: if this
   * commit is cut short before its manifest, the tables may be ahead of the
   * state, and the commit that takes its number rebuilds them.
   */
  private async writeTables(connection: DuckDBConnection, partitions: ReadonlySet<string>): Promise<void> {
    const { s3, cfg } = this.deps;
    await this.createLiveRows(
      connection,
      segmentsOf(this.manifest, partitions),
      deletesOf(this.manifest, partitions),
      partitions,
    );
    const { column, expression } = this.dataset.partition as NonNullable<Dataset['partition']>;
    await connection.run(
      `create or replace temp view current_rows as
       select * exclude (_segment), (${expression}) as ${sqlIdentifier(column)} from live_rows`,
    );
    const touched = [...partitions];
    // Sent now, while DuckDB works; the tables go up once it is written (see commit).
    const mark = this.sent(
      markTablesPending(s3, cfg.goldBucket, this.dataset.name, { commit: this.id, partitions: touched }),
    );
    const tables = await writeGoldTables(connection, this.dataset, touched, this.dir);
    this.tables = {
      mark,
      writes: tables.flatMap((output) =>
        touched.map((partition) => ({
          key: goldPartitionKey(this.dataset.name, output.table.name, column, partition),
          file: output.files.get(partition),
        })),
      ),
    };
  }

  /** `live_rows`: rows of the touched partitions in their segments (with `_segment`), minus the retired ones. */
  private async createLiveRows(
    connection: DuckDBConnection,
    sources: readonly SegmentEntry[],
    deletes: readonly DeletesEntry[],
    partitions: ReadonlySet<string>,
  ): Promise<void> {
    const segmentPaths = await this.fetch(sources);
    const selects = sources.map((segment, i) => {
      const file = `read_parquet(${sqlString(segmentPaths[i] as string)})`;
      // A segment's file keeps the rows of partitions it no longer serves (compacted or emptied since,
      // their deletes dropped with them): unless it holds only rebuilt partitions it serves, every row
      // is tested against the partitions it still serves.
      const served = Object.keys(segment.partitions).filter((p) => partitions.has(p));
      const conditions = [
        ...(segment.compacted ? [] : [`${this.k} is not null`]),
        ...(holdsOnlyServed(segment, partitions) ? [] : [`${this.partitionOf} in ${inList(served)}`]),
      ];
      const where = conditions.length ? `where ${conditions.join(' and ')}` : '';
      return segment.compacted
        ? `select * from ${file} ${where}`
        : `select *, ${segment.id}::bigint as _segment from ${file} ${where}`;
    });
    // No segment serves them (partitions a cut attempt wrote first): no live row, with silver's columns.
    if (selects.length === 0) selects.push(`select *, ${this.id}::bigint as _segment from silver_rows where false`);
    const deletePaths = await this.fetch(deletes.filter((entry) => entry.id !== this.id));
    const retired = [
      ...deletePaths.map((path) => `select _segment, _source_row, _partition from read_parquet(${sqlString(path)})`),
      'select _segment, _source_row, _partition from retired',
    ].join(' union all ');
    await connection.run(
      `create or replace temp view live_rows as
       select s.* from (${selects.join(' union all by name ')}) s
       anti join (select _segment, _source_row from (${retired}) where _partition in ${inList(partitions)}) d
         on s._segment = d._segment and s._source_row = d._source_row`,
    );
  }

  /** The live rows of `partitions` become one segment; the entries that held them let go of them. */
  private async compact(connection: DuckDBConnection, partitions: ReadonlySet<string>): Promise<void> {
    const path = join(this.dir, 'compacted.parquet');
    // live_rows holds the rebuilt partitions only; the emptied ones have no rows in it.
    const rows = await copyRows(connection, 'select * from live_rows', path);
    const key = this.key({ kind: 'segments', suffix: '-compacted' });
    const segment = newSegment({
      id: this.id,
      key,
      eTag: '',
      rows,
      compacted: true,
      partitions: await rowsByPartition(connection, { path }, this.partitionOf),
    });
    this.discard(dropPartitions(this.manifest, partitions));
    this.manifest.segments.push(segment);
    this.uploads.push({ key, path, entry: segment });
  }

  /** Merges the smallest index runs into one, keeping each key's newest entry; likewise the applied ledger. */
  private async mergeIndexRuns(connection: DuckDBConnection): Promise<void> {
    await this.mergeAppliedRuns(connection);
    const runs = indexRunsToMerge(this.manifest);
    if (runs.length === 0) return;
    const paths = await this.fetch(runs);
    const path = join(this.dir, 'merged-run.parquet');
    const rows = await copyRows(
      connection,
      `select key, arg_max(_partition, _segment) as _partition, max(_segment) as _segment,
              arg_max(_source_row, _segment) as _source_row, arg_max_null(_uploaded_at, _segment) as _uploaded_at
       from ${await runsWithUploadTimes(connection, paths)} group by key`,
      path,
    );
    const merged = new Set(runs);
    this.manifest.index = this.manifest.index.filter((run) => !merged.has(run));
    this.discard(runs);
    const name = commitObjectName(this.id, { kind: 'index', suffix: '-merged' });
    this.manifest.index.push(await this.runEntry(connection, path, name, rows));
  }

  private async mergeAppliedRuns(connection: DuckDBConnection): Promise<void> {
    const runs = smallestRunsToMerge(this.manifest.applied.runs);
    if (runs.length === 0) return;
    const paths = await this.fetch(runs);
    const path = join(this.dir, 'merged-applied.parquet');
    const rows = await copyRows(
      connection,
      `select silver_key, max(_commit) as _commit, arg_max_null(_uploaded_at, _commit) as _uploaded_at
       from ${await runsWithUploadTimes(connection, paths)} group by 1`,
      path,
    );
    const merged = new Set(runs);
    this.manifest.applied.runs = this.manifest.applied.runs.filter((run) => !merged.has(run));
    this.discard(runs);
    const key = this.key({ kind: 'applied', suffix: '-merged' });
    const entry: StateObject = { key, eTag: '', rows };
    this.manifest.applied.runs.push(entry);
    this.uploads.push({ key, path, entry });
  }

  /** Local copies of state objects (from the cache when warm), pinned for this job. */
  private async fetch(objects: readonly StateObject[]): Promise<string[]> {
    const { s3, cfg, cache } = this.deps;
    const local = this.uploads.map((upload) => upload.entry);
    const paths: string[] = [];
    await inParallel(
      objects.map((object, i) => ({ object, i })),
      PARALLEL_TRANSFERS,
      async ({ object, i }) => {
        const written = this.uploads[local.indexOf(object)];
        paths[i] = written
          ? written.path
          : this.pin(await cache.acquire(s3, { bucket: cfg.goldBucket, key: object.key, eTag: object.eTag }));
      },
    );
    return paths;
  }

  /**
   * A request sent now and awaited later: until then its failure must not
   * surface as an unhandled rejection, and `settle` waits for it.
   */
  private sent<T>(request: Promise<T>): Promise<T> {
    this.inFlight.push(request.catch(() => undefined));
    return request;
  }

  /** Resolves once every request sent ahead has settled. */
  async settle(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** Objects no entry names any more: deleted after the commit, or never uploaded if this commit wrote them. */
  private discard(objects: readonly StateObject[]): void {
    for (const object of objects) {
      const pending = this.uploads.findIndex((upload) => upload.entry === object);
      if (pending >= 0) this.uploads.splice(pending, 1);
      else this.garbage.push(object);
    }
  }

  /** The key of one of this commit's objects (see CommitObject). */
  private key(object: CommitObject): string {
    return commitObjectKey(this.dataset.name, this.id, object);
  }

  private pin(path: string): string {
    this.pinned.push(path);
    return path;
  }
}

/** A silver file downloaded for a commit: its ETag, and its raw object's upload time when the silver object says it. */
interface SilverFile {
  path: string;
  eTag: string;
  uploadedAt: number | undefined;
}

/** The commit's index run, as written locally (rewritten when keys yield to newer files). */
interface IndexRunFile {
  path: string;
  rows: number;
  entry: IndexRun;
}

/** Seconds since the epoch, from a silver object's metadata; undefined for a silver object written before it was kept. */
function uploadedAtOf(metadata: Record<string, string> | undefined): number | undefined {
  const seconds = Number(metadata?.[SOURCE_LAST_MODIFIED_METADATA]);
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}

const inList = (values: Iterable<string>) => `(${[...values].map(sqlString).join(', ')})`;

async function count(connection: DuckDBConnection, select: string): Promise<number> {
  const reader = await connection.runAndReadAll(`select count(*)::bigint as n from (${select})`);
  return Number(reader.getRowObjectsJS()[0]?.n ?? 0);
}

async function strings(connection: DuckDBConnection, sql: string): Promise<string[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => String(Object.values(row)[0]));
}
