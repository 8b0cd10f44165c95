export * from './catalog';
export * from './chunk-state-machine';
export * from './env';
export * from './handlers';
export * from './keys';
export * from './metrics';
export * from './zones';
