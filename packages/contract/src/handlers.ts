/**
 * The image's bundle (`/var/task/index.js`) exports both Lambda entry points;
 * the Dockerfile's CMD names the ingestion one and the gold function overrides
 * the command with the other.
 */
export const BUNDLE_MODULE = 'index';
export const INGEST_EXPORT = 'handler';
export const GOLD_EXPORT = 'goldHandler';
export const RECONCILE_EXPORT = 'reconcileHandler';
export const CHUNK_EXPORT = 'chunkHandler';
export const INGEST_COMMAND = `${BUNDLE_MODULE}.${INGEST_EXPORT}`;
export const GOLD_COMMAND = `${BUNDLE_MODULE}.${GOLD_EXPORT}`;
/** The scheduled reconciliation (optional, off by default). */
export const RECONCILE_COMMAND = `${BUNDLE_MODULE}.${RECONCILE_EXPORT}`;

/** The chunk function: every step of the chunk state machine, named in its input (`step`). */
export const CHUNK_COMMAND = `${BUNDLE_MODULE}.${CHUNK_EXPORT}`;

/**
 * The steps of a file processed in chunks on AWS, as the state machine names
 * them in the chunk function's input: each chunk; a chunk's failure after its
 * retries, recorded; the commit after every chunk; the fail step after a chunk
 * failed for good.
 */
export const CHUNK_STEP = {
  chunk: 'chunk',
  recordFailure: 'record-failure',
  commit: 'commit',
  fail: 'fail',
} as const;
export type ChunkStep = (typeof CHUNK_STEP)[keyof typeof CHUNK_STEP];

/**
 * The error name of a chunk that no retry can fix (the file itself, or its
 * being gone): the state machine does not retry it.
 */
export const CHUNK_FINAL_ERROR = 'ChunkFinalError';
