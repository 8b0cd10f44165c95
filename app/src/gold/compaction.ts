import type { DeletesEntry, GoldManifest, IndexRun, SegmentEntry } from './gold-state';

/**
 * When to rewrite state. Appending keeps each gold update proportional to its
 * file; compaction keeps reads bounded, and costs about what a read of the
 * same rows costs, now and then instead of every time.
 */
export const COMPACTION = {
  /** Segments read to rebuild the touched partitions, beyond which their live rows are rewritten as one. */
  maxSegmentsPerRead: 8,
  /** Rows read from segments per live row of the touched partitions (other partitions, superseded rows). */
  maxReadAmplification: 4,
  /** Below this many rows read, amplification is not worth a rewrite. */
  minRowsToCompact: 1_000_000,
  /** Index runs beyond which the smallest are merged into one. */
  maxIndexRuns: 8,
  /** How many of the smallest runs a merge takes. */
  indexRunsPerMerge: 5,
} as const;

/**
 * Whether to rewrite the live rows of the touched partitions into one segment
 * while they are being read anyway.
 */
export function shouldCompact(
  sources: readonly SegmentEntry[],
  deletes: readonly DeletesEntry[],
  partitions: ReadonlySet<string>,
): boolean {
  if (sources.length > COMPACTION.maxSegmentsPerRead) return true;
  const rowsRead = sources.reduce((sum, segment) => sum + segment.rows, 0);
  const rowsOfPartitions = sources.reduce(
    (sum, segment) => sum + [...partitions].reduce((rows, p) => rows + (segment.partitions[p] ?? 0), 0),
    0,
  );
  const deleted = deletes.reduce((sum, entry) => sum + entry.rows, 0);
  const live = Math.max(1, rowsOfPartitions - deleted);
  return rowsRead >= COMPACTION.minRowsToCompact && rowsRead > COMPACTION.maxReadAmplification * live;
}

/** The runs to merge now, if the index has grown past its bound: the smallest ones. */
export function indexRunsToMerge(manifest: GoldManifest): IndexRun[] {
  return smallestRunsToMerge(manifest.index);
}

/** Of runs appended one per commit (index, applied ledger), the smallest, once there are too many. */
export function smallestRunsToMerge<T extends { rows: number }>(runs: readonly T[]): T[] {
  if (runs.length <= COMPACTION.maxIndexRuns) return [];
  return [...runs].sort((a, b) => a.rows - b.rows).slice(0, COMPACTION.indexRunsPerMerge);
}
