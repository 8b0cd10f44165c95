import { createHash } from 'node:crypto';

/** Dataset of a raw key when it has no folder. */
export const DEFAULT_DATASET = 'default';

/** Prefixes in the silver bucket for what is not clean data. */
export const REJECTS_PREFIX = '_rejects';
export const QUARANTINE_PREFIX = '_quarantine';

/**
 * The dataset is the first path segment of the raw key: `trips/2026/a.csv` ->
 * `trips`. A segment starting with `_` is not a dataset: `_rejects/`,
 * `_quarantine/` and `_state/` are the pipeline's own prefixes, and a raw
 * folder named like them must never mix into them, so its files take `default`.
 */
export function datasetOf(rawKey: string): string {
  const slash = rawKey.indexOf('/');
  if (slash <= 0 || rawKey.startsWith('_')) return DEFAULT_DATASET;
  return rawKey.slice(0, slash);
}

/** Longest dataset folder in an output key: output keys stay under S3's 1,024 bytes whatever the raw key. */
const MAX_FOLDER_BYTES = 200;

/** The dataset's folder in silver: its name, or for a very long one, its start and a hash of it. */
export function folderOf(dataset: string): string {
  if (Buffer.byteLength(dataset) <= MAX_FOLDER_BYTES) return dataset;
  let start = '';
  for (const char of dataset) {
    if (Buffer.byteLength(start + char) > MAX_FOLDER_BYTES - 17) break;
    start += char;
  }
  return `${start}-${createHash('sha256').update(dataset).digest('hex').slice(0, 16)}`;
}

/**
 * A stable id of one version of one raw object. Keys derived from it make
 * every output a deterministic function of (key, etag or version), so a
 * re-delivered event overwrites its outputs instead of duplicating them.
 */
export function sourceId(rawKey: string, versionOrEtag: string): string {
  return createHash('sha256').update(rawKey).update('\0').update(versionOrEtag).digest('hex').slice(0, 24);
}

/** File name stem of a raw key, kept readable in output keys. */
function stemOf(rawKey: string): string {
  const base = rawKey.slice(rawKey.lastIndexOf('/') + 1);
  const stem = base.replace(/\.(gz|zst|gzip|zstd)$/i, '').replace(/\.[^.]*$/, '');
  const safe = stem.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
  return safe.slice(0, 80) || 'object';
}

/** Silver object for one raw object version: `<dataset>/<stem>-<sourceId>.parquet`. */
export function silverKey(rawKey: string, versionOrEtag: string): string {
  return `${folderOf(datasetOf(rawKey))}/${stemOf(rawKey)}-${sourceId(rawKey, versionOrEtag)}.parquet`;
}

/**
 * A silver object's user metadata (`x-amz-meta-source-last-modified`): its
 * raw object's LastModified, in seconds since the epoch. Gold keeps each
 * key's row of the file uploaded last by it, whatever order files reach gold in.
 */
export const SOURCE_LAST_MODIFIED_METADATA = 'source-last-modified';

/** An object's LastModified as S3 dates it, and as gold orders files: whole seconds since the epoch. */
export const uploadSecond = (lastModified: Date): number => Math.floor(lastModified.getTime() / 1000);

/** Rejected rows of one raw object version. */
export function rejectsKey(rawKey: string, versionOrEtag: string): string {
  return `${REJECTS_PREFIX}/${silverKey(rawKey, versionOrEtag)}`;
}

/** Quarantine record of one raw object version. */
export function quarantineKey(rawKey: string, versionOrEtag: string): string {
  return `${QUARANTINE_PREFIX}/${folderOf(datasetOf(rawKey))}/${stemOf(rawKey)}-${sourceId(rawKey, versionOrEtag)}.json`;
}

/** Gold keeps its incremental state beside the tables, under this prefix. */
export const GOLD_STATE_PREFIX = '_state';
/** Hive's name for a partition whose value is null. */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

const partitionSegment = (column: string, value: string) => `${column}=${encodeURIComponent(value)}`;

/** One partition of a gold table: `<dataset>/<table>/<column>=<value>/data.parquet`. */
export function goldPartitionKey(dataset: string, table: string, column: string, value: string): string {
  return `${dataset}/${table}/${partitionSegment(column, value)}/data.parquet`;
}

/** Kinds of immutable objects in a dataset's gold state (see the README's "How gold stays correct"). */
export type GoldStateKind = 'segments' | 'deletes' | 'index' | 'applied';

/**
 * The commit point of a dataset's gold state: which state objects are live.
 * A gold update writes new immutable objects, then this manifest.
 */
export function goldManifestKey(dataset: string): string {
  return `${GOLD_STATE_PREFIX}/${dataset}/manifest.json`;
}

/**
 * The gold partitions a commit is rewriting, written before its first table
 * object: if it is cut short before its manifest, the next commit rebuilds them too.
 */
export function goldPendingTablesKey(dataset: string): string {
  return `${GOLD_STATE_PREFIX}/${dataset}/tables-pending.json`;
}

/** One immutable state object, named by the commit that wrote it: `_state/<dataset>/<kind>/<name>.parquet`. */
export function goldStateObjectKey(dataset: string, kind: GoldStateKind, name: string): string {
  return `${GOLD_STATE_PREFIX}/${dataset}/${kind}/${name}.parquet`;
}

/** Where each dataset's current silver schema lives in the silver bucket (see docs/datasets.md). */
export const SCHEMA_PREFIX = '_schema';

/**
 * A dataset's current silver schema: `_schema/<folder>/schema.json`. Outside
 * the dataset's own prefix, so no reader of `<folder>/` ever takes it for data.
 */
export function schemaKey(dataset: string): string {
  return `${SCHEMA_PREFIX}/${folderOf(dataset)}/${SCHEMA_FILE}`;
}

const SCHEMA_FILE = 'schema.json';

/**
 * Where the parts of a file processed in chunks wait for their commit:
 * outside every dataset's prefix, so no reader of `<folder>/` ever sees half
 * a file. The commit publishes one silver object and removes the parts.
 */
export const CHUNKS_PREFIX = '_chunks';

/** The folder of one raw object version's chunk parts: `_chunks/<folder>/<stem>-<sourceId>/`. */
export function chunkPartsPrefix(rawKey: string, versionOrEtag: string): string {
  return `${CHUNKS_PREFIX}/${folderOf(datasetOf(rawKey))}/${stemOf(rawKey)}-${sourceId(rawKey, versionOrEtag)}/`;
}

/** One chunk's staged part or its unreadable lines: `<parts prefix>/staged-00003.parquet`. */
export function chunkPartKey(rawKey: string, versionOrEtag: string, index: number, kind: 'staged' | 'lines'): string {
  return `${chunkPartsPrefix(rawKey, versionOrEtag)}${kind}-${String(index).padStart(5, '0')}.parquet`;
}

/** A file's chunk plan, the items a Step Functions Distributed Map reads: `<parts prefix>plan.json`. */
export function chunkPlanKey(rawKey: string, versionOrEtag: string): string {
  return `${chunkPartsPrefix(rawKey, versionOrEtag)}${CHUNK_PLAN_FILE}`;
}

export const CHUNK_PLAN_FILE = 'plan.json';

/** What one chunk's parts hold (rows, lines), read by the commit: `<parts prefix>part-00003.json`. */
export function chunkManifestKey(rawKey: string, versionOrEtag: string, index: number): string {
  return `${chunkPartsPrefix(rawKey, versionOrEtag)}part-${String(index).padStart(5, '0')}.json`;
}

/** Why one chunk failed for good, read by the fail step: `<parts prefix>failed-00003.json`. */
export function chunkFailureKey(rawKey: string, versionOrEtag: string, index: number): string {
  return `${chunkPartsPrefix(rawKey, versionOrEtag)}${CHUNK_FAILURE_STEM}${String(index).padStart(5, '0')}.json`;
}

export const CHUNK_FAILURE_STEM = 'failed-';
