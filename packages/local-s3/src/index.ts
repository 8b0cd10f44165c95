export * from './event-record';
export * from './local-s3';
