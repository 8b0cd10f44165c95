/**
 * One quarantine record: a JSON object on one line at
 * `_quarantine/<dataset>/<stem>-<id>.json` in the silver bucket, so Athena's
 * JSON SerDe reads the records as the `quarantine` table, one row each (its
 * columns: QUARANTINE_COLUMNS in catalog.ts).
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
