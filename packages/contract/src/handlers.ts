/**
 * The image's bundle (`/var/task/index.js`) exports both Lambda entry points;
 * the Dockerfile's CMD names the ingestion one and the gold function overrides
 * the command with the other.
 */
export const BUNDLE_MODULE = 'index';
export const INGEST_EXPORT = 'handler';
export const GOLD_EXPORT = 'goldHandler';
export const RECONCILE_EXPORT = 'reconcileHandler';
export const INGEST_COMMAND = `${BUNDLE_MODULE}.${INGEST_EXPORT}`;
export const GOLD_COMMAND = `${BUNDLE_MODULE}.${GOLD_EXPORT}`;
/** The scheduled reconciliation (optional, off by default). */
export const RECONCILE_COMMAND = `${BUNDLE_MODULE}.${RECONCILE_EXPORT}`;
