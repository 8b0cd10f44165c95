// The image's entry module: the Dockerfile's CMD names `index.handler`, the
// gold function overrides it with `index.goldHandler` (see @lakehouse/contract).
export { goldHandler } from './gold-handler';
export { handler } from './handler';
