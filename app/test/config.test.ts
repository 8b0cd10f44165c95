import { loadConfig } from '../src/config';

const base = { SILVER_BUCKET: 'silver-1', GOLD_BUCKET: 'gold-1' };

describe('loadConfig', () => {
  it('reads the buckets and leaves the optional settings unset', () => {
    const cfg = loadConfig(base);
    expect(cfg).toMatchObject({ silverBucket: 'silver-1', goldBucket: 'gold-1' });
    expect(cfg.s3Endpoint).toBeUndefined();
    expect(cfg.goldQueueUrl).toBeUndefined();
  });

  it.each(['SILVER_BUCKET', 'GOLD_BUCKET'])('names %s when it is missing', (name) => {
    const env: Record<string, string> = { ...base };
    delete env[name];
    expect(() => loadConfig(env)).toThrow(`Environment variable ${name} is required but not set`);
  });

  it.each([
    ['S3_ENDPOINT', 'not a url', 'must be a URL'],
    ['MAX_OBJECT_BYTES', '-5', 'must be a positive integer'],
    ['AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'lots', 'must be a positive integer'],
    ['GOLD_CACHE_MB', '-1', 'must be a whole number'],
  ])('names %s when it is malformed', (name, value, problem) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(`Environment variable ${name} ${problem}`);
  });

  it('plans files above CHUNK_THRESHOLD_MB for the chunk state machine only with both set', () => {
    const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:duckdb_ingestion_chunks';
    expect(loadConfig(base).chunks).toBeUndefined();
    expect(loadConfig({ ...base, CHUNK_THRESHOLD_MB: '512', CHUNK_STATE_MACHINE_ARN: arn }).chunks).toEqual({
      thresholdBytes: 512 * 1024 * 1024,
      stateMachineArn: arn,
    });
    expect(() => loadConfig({ ...base, CHUNK_THRESHOLD_MB: '512' })).toThrow(
      'Environment variable CHUNK_STATE_MACHINE_ARN is required with CHUNK_THRESHOLD_MB',
    );
    expect(() => loadConfig({ ...base, CHUNK_STATE_MACHINE_ARN: arn })).toThrow(
      'Environment variable CHUNK_THRESHOLD_MB is required with CHUNK_STATE_MACHINE_ARN',
    );
  });

  it('gives DuckDB a share of the Lambda memory size, leaving the rest to Node', () => {
    expect(loadConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008' }).duckdb.memoryLimitMb).toBe(1504);
    expect(loadConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' }).duckdb.memoryLimitMb).toBe(128);
  });

  it('keeps 512 MB of the work dir for gold state by default; 0 turns the cache off', () => {
    expect(loadConfig(base).goldCacheBytes).toBe(512 * 1024 * 1024);
    expect(loadConfig({ ...base, GOLD_CACHE_MB: '0' }).goldCacheBytes).toBe(0);
  });

  it('normalises the endpoint', () => {
    expect(loadConfig({ ...base, S3_ENDPOINT: 'http://127.0.0.1:4566/' }).s3Endpoint).toBe('http://127.0.0.1:4566');
  });
});
