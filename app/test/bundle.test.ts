import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { CHUNK_COMMAND, ENV, GOLD_COMMAND, INGEST_COMMAND, RECONCILE_COMMAND } from '@lakehouse/contract';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalS3, startLocalS3 } from '@lakehouse/local-s3';
import type { S3EventRecord } from 'aws-lambda';
import {
  APP_DIR,
  type BundleResult,
  buildBundle,
  checkImageLock,
  IMAGE_DEPENDENCIES_DIR,
  installedVersion,
} from '../scripts/build';

const run = promisify(execFile);

/** A small file of the trips dataset (app/transforms/trips): it goes to silver, then to gold. */
const TRIPS_CSV = [
  'trip_id,pickup_at,distance_km,fare,passengers,payment_type,pickup_zone',
  'B-001,2026-01-15 08:00:00,3.2,12.50,1,card,Midtown',
  'B-002,2026-01-15 09:30:00,12.0,31.00,2,cash,Airport',
  'B-003,2026-01-16 10:15:00,1.1,6.75,1,Card ,Midtown',
  '',
].join('\n');

/** The handler the image runs: `CMD ["<module>.<export>"]`, relative to the task root. */
function dockerfileHandler(): { module: string; exportName: string; command: string } {
  const dockerfile = readFileSync(join(APP_DIR, 'Dockerfile'), 'utf8');
  const cmd = dockerfile.match(/^CMD\s+(\[.*\])\s*$/m)?.[1];
  if (!cmd) throw new Error('app/Dockerfile has no exec-form CMD');
  const [command] = JSON.parse(cmd) as string[];
  const dot = command?.lastIndexOf('.') ?? -1;
  if (!command || dot < 1) throw new Error(`CMD does not name <module>.<export>: ${cmd}`);
  return { module: command.slice(0, dot), exportName: command.slice(dot + 1), command };
}

/**
 * Loads the bundle in a fresh Node process the way the Lambda runtime does
 * (require(<task root>/<module>), then the named export) and invokes it with
 * the event; prints the handler's result as JSON.
 */
const INVOKE = `
const path = require('node:path');
const [taskRoot, moduleName, exportName] = process.argv.slice(1);
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const handler = require(path.resolve(taskRoot, moduleName))[exportName];
  if (typeof handler !== 'function') throw new Error(exportName + ' is not an exported function');
  const result = await handler(JSON.parse(input), { awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 60000 });
  process.stdout.write('\\n@@RESULT@@' + JSON.stringify(result));
});
`;

async function invokeBundle(
  taskRoot: string,
  module: string,
  exportName: string,
  event: unknown,
  env: NodeJS.ProcessEnv,
) {
  const child = run(process.execPath, ['-e', INVOKE, taskRoot, module, exportName], {
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  child.child.stdin?.end(JSON.stringify(event));
  const { stdout } = await child;
  const marker = stdout.lastIndexOf('@@RESULT@@');
  if (marker < 0) throw new Error(`no result from the handler; output:\n${stdout}`);
  return JSON.parse(stdout.slice(marker + '@@RESULT@@'.length));
}

describe('the image lockfile (app/image), installed by npm ci in the Dockerfile', () => {
  const lock = JSON.parse(readFileSync(join(IMAGE_DEPENDENCIES_DIR, 'package-lock.json'), 'utf8'));

  it('pins DuckDB at the version the workspace resolved, so the image runs what the tests ran', () => {
    expect(checkImageLock()).toEqual({ '@duckdb/node-api': installedVersion('@duckdb/node-api') });
  });

  it.each(['linux-x64', 'linux-arm64'])('holds the %s bindings with an integrity hash', (platform) => {
    const entry = lock.packages[`node_modules/@duckdb/node-bindings-${platform}`];
    expect(entry.version).toBe(installedVersion('@duckdb/node-api'));
    expect(entry.integrity).toMatch(/^sha512-/);
  });

  it('fails the build, saying what to run, when the lockfile pins another version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'image-lock-'));
    try {
      const stale = structuredClone(lock);
      stale.packages['node_modules/@duckdb/node-api'].version = '1.0.0';
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(stale));
      expect(() => checkImageLock(dir)).toThrow(
        /lockfile 1\.0\.0, workspace .*pnpm --filter @lakehouse\/app lock-image/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the production bundle, loaded as the Lambda runtime loads it', () => {
  const buckets = { raw: 'bundle-raw', silver: 'bundle-silver', gold: 'bundle-gold' };
  // Under app/ so that the externals (@duckdb/node-api) resolve from app/node_modules, as from /var/task/node_modules.
  const scratch = join(APP_DIR, 'test', 'dist');
  let taskRoot: string;
  let bundle: BundleResult;
  let s3: LocalS3;
  let workDir: string;

  beforeAll(async () => {
    mkdirSync(scratch, { recursive: true });
    taskRoot = mkdtempSync(join(scratch, 'task-'));
    workDir = mkdtempSync(join(tmpdir(), 'bundle-work-'));
    bundle = buildBundle(taskRoot);
    s3 = await startLocalS3({ buckets: Object.values(buckets) });
  });
  afterAll(async () => {
    await s3?.close();
    rmSync(taskRoot, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('the Dockerfile CMD names the contract ingestion handler', () => {
    expect(dockerfileHandler().command).toBe(INGEST_COMMAND);
  });

  it('holds the handler module, the transforms and the native dependency pins', () => {
    expect(bundle.entry).toBe(join(taskRoot, `${dockerfileHandler().module}.js`));
    expect(readFileSync(join(taskRoot, 'transforms', 'trips', 'silver.sql'), 'utf8')).toBe(
      readFileSync(join(APP_DIR, 'transforms', 'trips', 'silver.sql'), 'utf8'),
    );
    const appManifest = JSON.parse(readFileSync(join(APP_DIR, 'package.json'), 'utf8'));
    const imageManifest = JSON.parse(readFileSync(join(taskRoot, 'package.json'), 'utf8'));
    expect(imageManifest.dependencies).toEqual({ '@duckdb/node-api': appManifest.dependencies['@duckdb/node-api'] });
    expect(bundle.nativeDependencies).toEqual(imageManifest.dependencies);
    // DuckDB stays external (installed in the image for Linux); everything else is bundled.
    const requires = new Set(
      [...readFileSync(bundle.entry, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]),
    );
    const packages = [...requires].filter((name) => name && !name.startsWith('node:') && !/^[a-z_]+$/.test(name));
    expect(packages.filter((name) => !name.startsWith('@aws-sdk/signature-v4-crt'))).toEqual(['@duckdb/node-api']);
  });

  it.each([GOLD_COMMAND, RECONCILE_COMMAND, CHUNK_COMMAND])(
    'exports the entry point %s a function is configured with',
    async (command) => {
      const [module, exportName] = command.split('.') as [string, string];
      const { stdout } = await run(process.execPath, [
        '-e',
        `process.stdout.write(typeof require(${JSON.stringify(join(taskRoot, module))})[${JSON.stringify(exportName)}])`,
      ]);
      expect(stdout).toBe('function');
    },
  );

  it('runs an S3 ObjectCreated event through to silver and gold', async () => {
    const key = 'trips/2026-01-15.csv';
    const created = new Promise<S3EventRecord>((resolve) => {
      const stop = s3.onObjectCreated((record) => {
        if (record.s3.bucket.name === buckets.raw) {
          stop();
          resolve(record);
        }
      });
    });
    await s3.client().send(
      new PutObjectCommand({
        Bucket: buckets.raw,
        Key: key,
        Body: TRIPS_CSV,
      }),
    );
    const record = await created;

    const { module, exportName } = dockerfileHandler();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: workDir,
      [ENV.silverBucket]: buckets.silver,
      [ENV.goldBucket]: buckets.gold,
      [ENV.s3Endpoint]: s3.endpoint,
      [ENV.workDir]: workDir,
      [ENV.region]: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const outcomes = await invokeBundle(taskRoot, module, exportName, { Records: [record] }, env);

    expect(outcomes).toEqual([
      expect.objectContaining({ status: 'ingested', dataset: 'trips', silverKey: expect.stringMatching(/^trips\//) }),
    ]);
    expect(outcomes[0]).toMatchObject({ silverRows: 3, rejectedRows: 0 });
    const list = async (Bucket: string, Prefix: string) =>
      ((await s3.client().send(new ListObjectsV2Command({ Bucket, Prefix }))).Contents ?? []).map((o) => o.Key);
    expect(await list(buckets.silver, 'trips/')).toContain(outcomes[0].silverKey);
    // Without GOLD_QUEUE_URL the gold step runs in-process: the bundle's SQL reached gold.
    expect(await list(buckets.gold, 'trips/daily_zone_revenue/')).toEqual([
      'trips/daily_zone_revenue/pickup_date=2026-01-15/data.parquet',
      'trips/daily_zone_revenue/pickup_date=2026-01-16/data.parquet',
    ]);
  });
});
