export * from './zones';
export * from './env';
export * from './keys';
export * from './handlers';
