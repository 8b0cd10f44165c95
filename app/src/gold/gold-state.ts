import type { S3Client } from '@aws-sdk/client-s3';
import { goldManifestKey, goldPendingTablesKey, goldStateObjectKey } from '@lakehouse/contract';
import { deleteObject, getJsonIfExists, inParallel, putJson } from '../io/s3-io';

/**
 * A dataset's gold state: a small table format of immutable Parquet objects
 * and one manifest that says which of them are live (the commit point).
 *
 * - segments: rows as silver wrote them (a server-side copy of one silver
 *   file), or the live rows of some partitions rewritten by compaction. Every
 *   row is identified by (_segment, _source_row): the commit that added it and
 *   its row in its silver file.
 * - deletes: identities of rows that a later commit replaced (same key, newer
 *   file) or that lost to a later row of the same key in their own file.
 * - index: runs of (key, _partition, _segment, _source_row), one per commit,
 *   merged as they accumulate. The current row of a key is its entry with the
 *   highest _segment; a file reads only the runs whose key range meets its own.
 *
 * The live rows of a partition are its segments' rows minus its deletes.
 */
export interface GoldManifest {
  format: typeof FORMAT;
  dataset: string;
  /** Commits applied; the next one is numbered version + 1. */
  version: number;
  segments: SegmentEntry[];
  deletes: DeletesEntry[];
  index: IndexRun[];
  /** Which silver files this state has applied (see applied-ledger.ts). */
  applied: AppliedLedger;
  /** The backfill generation this state was switched to, if any (a retried switch then only cleans up). */
  generation?: string;
  /**
   * Keys of state objects this manifest no longer names (a merge, a compaction
   * or a switch let them go), deleted once it was written. A cleanup cut short
   * leaves them here, and the next commit deletes them before its own manifest.
   */
  garbage?: string[];
}

/**
 * Parquet runs of (silver_key, _commit): one per commit, merged as they
 * accumulate. `complete` is false for a state begun before the ledger
 * existed, whose earlier commits it does not name.
 */
export interface AppliedLedger {
  complete: boolean;
  runs: StateObject[];
}

export interface StateObject {
  /** Key in the gold bucket. */
  key: string;
  eTag: string;
  rows: number;
}

export interface SegmentEntry extends StateObject {
  id: number;
  /**
   * True when its rows carry their own `_segment` (compaction, an upgrade);
   * false for a copy of a silver file, whose rows all belong to commit `id`.
   */
  compacted: boolean;
  /** Rows per partition value; a partition compacted elsewhere is removed. */
  partitions: Record<string, number>;
  /**
   * The partitions its file holds keyed rows of, as written: the file keeps
   * them when `partitions` lets some go. Absent from states written before
   * it was kept, whose `partitions` may also leave out rows retired within their file.
   */
  held?: string[];
}

export interface DeletesEntry extends StateObject {
  id: number;
  partitions: string[];
}

export interface IndexRun extends StateObject {
  name: string;
  minKey: string;
  maxKey: string;
}

const FORMAT = 2;
const PARALLEL_DELETES = 8;

export function emptyManifest(dataset: string): GoldManifest {
  return {
    format: FORMAT,
    dataset,
    version: 0,
    segments: [],
    deletes: [],
    index: [],
    applied: { complete: true, runs: [] },
  };
}

export async function loadManifest(s3: S3Client, bucket: string, dataset: string): Promise<GoldManifest> {
  const manifest = await getJsonIfExists<GoldManifest>(s3, bucket, goldManifestKey(dataset));
  if (!manifest) return emptyManifest(dataset);
  if (manifest.format !== FORMAT) {
    throw new Error(`gold state of ${dataset} has format ${manifest.format}; this version reads format ${FORMAT}`);
  }
  // Written before the ledger: it cannot say which silver files its commits applied.
  manifest.applied ??= { complete: false, runs: [] };
  return manifest;
}

/** Every object a manifest names. */
export function stateObjectsOf(manifest: GoldManifest): StateObject[] {
  return [...manifest.segments, ...manifest.deletes, ...manifest.index, ...manifest.applied.runs];
}

/** Deletes state objects no manifest names (throws if one could not be deleted: deleting a missing key succeeds). */
export async function deleteStateObjects(
  { s3, cfg }: { s3: S3Client; cfg: { goldBucket: string } },
  keys: readonly string[],
): Promise<void> {
  await inParallel([...new Set(keys)], PARALLEL_DELETES, (key) => deleteObject(s3, cfg.goldBucket, key));
}

/** The partitions whose gold tables a commit is rewriting (see goldPendingTablesKey). */
export interface PendingTables {
  commit: number;
  partitions: string[];
}

export function loadPendingTables(s3: S3Client, bucket: string, dataset: string): Promise<PendingTables | undefined> {
  return getJsonIfExists<PendingTables>(s3, bucket, goldPendingTablesKey(dataset));
}

/**
 * Partitions whose tables an attempt at the commit after `manifest` wrote, or
 * may have, before it was cut short: they may not match the state, so the
 * commit that takes its number rebuilds them too. A mark of an earlier
 * commit is done with: that commit's manifest was written.
 */
export function tablesLeftPending(manifest: GoldManifest, pending: PendingTables | undefined): string[] {
  return pending?.commit === manifest.version + 1 ? pending.partitions : [];
}

/** Written before a commit's first table object (see goldPendingTablesKey). */
export async function markTablesPending(
  s3: S3Client,
  bucket: string,
  dataset: string,
  pending: PendingTables,
): Promise<void> {
  await putJson(s3, bucket, goldPendingTablesKey(dataset), pending);
}

export async function saveManifest(s3: S3Client, bucket: string, manifest: GoldManifest): Promise<void> {
  await putJson(s3, bucket, goldManifestKey(manifest.dataset), manifest);
}

export const stateKey = goldStateObjectKey;

/** The names a commit numbered N gives its objects: N, or N with a suffix (see apply-to-gold.ts). */
export type CommitObject =
  | { kind: 'segments'; suffix: '' | '-compacted' }
  | { kind: 'index' | 'applied'; suffix: '' | '-merged' }
  | { kind: 'deletes'; suffix: '' };

const COMMIT_OBJECTS: readonly CommitObject[] = [
  { kind: 'segments', suffix: '' },
  { kind: 'segments', suffix: '-compacted' },
  { kind: 'index', suffix: '' },
  { kind: 'index', suffix: '-merged' },
  { kind: 'applied', suffix: '' },
  { kind: 'applied', suffix: '-merged' },
  { kind: 'deletes', suffix: '' },
];

export const commitObjectName = (id: number, { suffix }: CommitObject) => `${id}${suffix}`;

export function commitObjectKey(dataset: string, id: number, object: CommitObject): string {
  return stateKey(dataset, object.kind, commitObjectName(id, object));
}

/** Every key a commit numbered `id` may write: what an attempt at it cut before its manifest may have left. */
export function commitObjectKeys(dataset: string, id: number): string[] {
  return COMMIT_OBJECTS.map((object) => commitObjectKey(dataset, id, object));
}

/** A new segment: its file holds rows of exactly the partitions it serves. */
export function newSegment(entry: Omit<SegmentEntry, 'held'>): SegmentEntry {
  return { ...entry, held: Object.keys(entry.partitions) };
}

/**
 * Whether every row of a segment's file is in `partitions` and still served
 * by the segment: then its rows need no per-row partition test.
 */
export function holdsOnlyServed(segment: SegmentEntry, partitions: ReadonlySet<string>): boolean {
  return segment.held?.every((p) => segment.partitions[p] !== undefined && partitions.has(p)) ?? false;
}

/** Segments holding rows of any of `partitions`. */
export function segmentsOf(manifest: GoldManifest, partitions: ReadonlySet<string>): SegmentEntry[] {
  return manifest.segments.filter((segment) => Object.keys(segment.partitions).some((p) => partitions.has(p)));
}

export function deletesOf(manifest: GoldManifest, partitions: ReadonlySet<string>): DeletesEntry[] {
  return manifest.deletes.filter((deletes) => deletes.partitions.some((p) => partitions.has(p)));
}

/** Byte order, as DuckDB compares VARCHAR. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Runs whose key range meets [min, max]: the only ones that can hold one of those keys. */
export function runsMeeting(manifest: GoldManifest, min: string, max: string): IndexRun[] {
  return manifest.index.filter((run) => compareKeys(run.maxKey, min) >= 0 && compareKeys(run.minKey, max) <= 0);
}

/**
 * Removes `partitions` from every segment and deletes entry (they now live in a
 * compacted segment, or have no rows left). Returns the objects no entry needs any more.
 */
export function dropPartitions(manifest: GoldManifest, partitions: ReadonlySet<string>): StateObject[] {
  const garbage: StateObject[] = [];
  manifest.segments = manifest.segments.filter((segment) => {
    for (const p of partitions) delete segment.partitions[p];
    if (Object.keys(segment.partitions).length > 0) return true;
    garbage.push(segment);
    return false;
  });
  manifest.deletes = manifest.deletes.filter((deletes) => {
    deletes.partitions = deletes.partitions.filter((p) => !partitions.has(p));
    if (deletes.partitions.length > 0) return true;
    garbage.push(deletes);
    return false;
  });
  return garbage;
}
