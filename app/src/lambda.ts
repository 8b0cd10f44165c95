// The image's entry module: the Dockerfile's CMD names `index.handler`, the
// gold function overrides it with `index.goldHandler`, the scheduled
// reconciliation with `index.reconcileHandler`, the chunk state machine's
// function with `index.chunkHandler` (see @lakehouse/contract).
export { chunkHandler } from './chunk-handler';
export { goldHandler } from './gold-handler';
export { handler } from './handler';
export { reconcileHandler } from './reconcile-handler';
