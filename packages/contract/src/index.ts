export * from './catalog';
export * from './env';
export * from './handlers';
export * from './keys';
export * from './metrics';
export * from './zones';
