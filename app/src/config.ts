import { availableParallelism, tmpdir } from 'node:os';
import { DEFAULT_SERVICE_NAME, ENV } from '@lakehouse/contract';

/** Everything the handler reads from its environment, parsed once. */
export interface Config {
  silverBucket: string;
  goldBucket: string;
  /** Set on AWS: gold updates go through this SQS FIFO queue. */
  goldQueueUrl?: string;
  /** An S3-compatible endpoint (path-style) instead of AWS S3. */
  s3Endpoint?: string;
  region?: string;
  maxObjectBytes: number;
  workDir: string;
  /** Bytes of the work dir that may hold cached gold state objects. */
  goldCacheBytes: number;
  duckdb: { memoryLimitMb: number; threads: number };
  /** Set on AWS: the Glue database where the ingestion function keeps the tables of datasets without a folder. */
  glueDatabase?: string;
  /** Set on AWS: files above this many bytes are planned in chunks of about this size and run by the chunk state machine. */
  chunks?: { thresholdBytes: number; stateMachineArn: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const DEFAULT_MAX_OBJECT_BYTES = 2 * 1024 ** 3;
/** Lambda's /tmp is 512 MB at least; the gold function keeps a quarter of the default 2 GB for state. */
const DEFAULT_GOLD_CACHE_MB = 512;
/** Without a Lambda memory size (local runs) DuckDB gets this much. */
const LOCAL_MEMORY_MB = 2048;
/**
 * DuckDB's limit bounds its buffer manager, not every allocation, and Node,
 * the SDK and transfer buffers need the rest: at 60 % a 20M-row file peaked
 * at 1.76 GB in a 2 GB function; at 50 % at 1.24 GB.
 */
const DUCKDB_MEMORY_SHARE = 0.5;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`Environment variable ${name} is required but not set`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, what: string): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`Environment variable ${name} must be ${what}, got "${raw}"`);
  }
  return value;
}

const positiveInt = (env: Env, name: string, fallback: number) => integer(env, name, fallback, 1, 'a positive integer');
const wholeNumber = (env: Env, name: string, fallback: number) => integer(env, name, fallback, 0, 'a whole number');

function url(env: Env, name: string): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  try {
    return new URL(raw).toString().replace(/\/$/, '');
  } catch {
    throw new ConfigError(`Environment variable ${name} must be a URL, got "${raw}"`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const lambdaMemoryMb = positiveInt(env, ENV.lambdaMemoryMb, 0);
  return {
    silverBucket: required(env, ENV.silverBucket),
    goldBucket: required(env, ENV.goldBucket),
    goldQueueUrl: url(env, ENV.goldQueueUrl),
    s3Endpoint: url(env, ENV.s3Endpoint),
    region: optional(env, ENV.region),
    maxObjectBytes: positiveInt(env, ENV.maxObjectBytes, DEFAULT_MAX_OBJECT_BYTES),
    workDir: optional(env, ENV.workDir) ?? tmpdir(),
    goldCacheBytes: wholeNumber(env, ENV.goldCacheMb, DEFAULT_GOLD_CACHE_MB) * 1024 * 1024,
    duckdb: {
      memoryLimitMb: lambdaMemoryMb ? Math.max(128, Math.floor(lambdaMemoryMb * DUCKDB_MEMORY_SHARE)) : LOCAL_MEMORY_MB,
      threads: availableParallelism(),
    },
    glueDatabase: optional(env, ENV.glueDatabase),
    ...chunkStateMachine(env),
  };
}

/** The chunk threshold and the state machine that runs the chunks: both, or neither. */
function chunkStateMachine(env: Env): Pick<Config, 'chunks'> {
  const thresholdMb = positiveInt(env, ENV.chunkThresholdMb, 0);
  const stateMachineArn = optional(env, ENV.chunkStateMachineArn);
  if (!thresholdMb && !stateMachineArn) return {};
  if (!thresholdMb || !stateMachineArn) {
    const missing = thresholdMb ? ENV.chunkStateMachineArn : ENV.chunkThresholdMb;
    throw new ConfigError(
      `Environment variable ${missing} is required with ${thresholdMb ? ENV.chunkThresholdMb : ENV.chunkStateMachineArn}`,
    );
  }
  return { chunks: { thresholdBytes: thresholdMb * 1024 * 1024, stateMachineArn } };
}

/**
 * The `service` of log lines and metrics: on AWS the function's name (set by the stack), so alarms
 * and the dashboard of one stack never count another's. Read apart from loadConfig: the logger needs
 * it at import, before the buckets are known.
 */
export function serviceName(env: Env = process.env): string {
  return optional(env, ENV.serviceName) ?? DEFAULT_SERVICE_NAME;
}

let cached: Config | undefined;
/** The process's configuration, parsed on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
