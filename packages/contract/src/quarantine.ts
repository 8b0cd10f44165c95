/**
 * One quarantine record: a JSON object on one line at
 * `_quarantine/<dataset>/<stem>-<id>.json` in the silver bucket, so Athena's
 * JSON SerDe reads the records as the `quarantine` table, one row each.
 */
export interface QuarantineRecord {
  /** The raw object: bucket, key, and the version that was read. */
  bucket: string;
  key: string;
  etag: string | null;
  versionId: string | null;
  dataset: string;
  /** Why, in one word: `empty`, `unreadable`, `schema`, `too-large`, ... */
  reason: string;
  /** What is wrong with the file, for a person. */
  error: string;
  /** ISO 8601, UTC. */
  quarantinedAt: string;
}

/** The `quarantine` table's columns, in record order, as Glue types. */
export const QUARANTINE_COLUMNS: ReadonlyArray<{ name: keyof QuarantineRecord; type: string }> = [
  { name: 'bucket', type: 'string' },
  { name: 'key', type: 'string' },
  { name: 'etag', type: 'string' },
  { name: 'versionId', type: 'string' },
  { name: 'dataset', type: 'string' },
  { name: 'reason', type: 'string' },
  { name: 'error', type: 'string' },
  { name: 'quarantinedAt', type: 'string' },
];
