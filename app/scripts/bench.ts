/**
 * The real handler over the local S3 server, on generated trips files of
 * growing size: time, throughput and peak memory per size.
 *
 *   pnpm bench [--rows 10000,100000,1000000] [--gzip] [--memory-mb 1769]
 *
 * --memory-mb sizes DuckDB as in a Lambda function of that memory (default: 2 GB for DuckDB).
 *
 * Each size runs in its own process, so its peak RSS (process.resourceUsage().maxRSS)
 * is that size's alone. Results go to .bench/results.json.
 */
import { fork } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Upload } from '@aws-sdk/lib-storage';
import { BUCKETS, quietLocalLogs, REPO_ROOT, startLocalLakehouse } from '../local/local-lakehouse';
import { bold, dim, formatCount, table } from '../local/terminal';
import { writeTrips } from '../local/trip-generator';

interface SizeResult {
  rows: number;
  file: string;
  fileMb: number;
  status: string;
  silverRows: number;
  rejectedRows: number;
  /** handleS3Event, gold included. */
  handlerMs: number;
  goldMs: number;
  rowsPerSecond: number;
  mbPerSecond: number;
  uploadMs: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

const MB = 1024 * 1024;

/** One size, in this (child) process: generate, start, upload, wait for the handler's line. */
async function measure(rows: number, gzip: boolean, memoryMb?: number): Promise<SizeResult> {
  quietLocalLogs();
  const home = await mkdtemp(join(tmpdir(), 'lakehouse-bench-'));
  try {
    const file = join(home, `trips-${rows}.csv${gzip ? '.gz' : ''}`);
    const generated = await writeTrips(file, { rows, seed: rows });
    const lakehouse = await startLocalLakehouse({
      port: 0,
      dataDir: join(home, 's3'),
      concurrency: 1,
      log: () => {},
      ...(memoryMb ? { lambdaMemoryMb: memoryMb } : {}),
    });
    try {
      const key = `trips/bench/${rows}.csv${gzip ? '.gz' : ''}`;
      const rssBefore = process.memoryUsage().rss;
      const processed = lakehouse.whenProcessed(key);
      const uploadStarted = performance.now();
      await new Upload({
        client: lakehouse.client(),
        params: { Bucket: BUCKETS.raw, Key: key, Body: createReadStream(file) },
        partSize: 16 * MB,
      }).done();
      const uploadMs = performance.now() - uploadStarted;
      const entry = await processed;
      const fileMb = generated.bytes / MB;
      return {
        rows,
        file: gzip ? 'csv.gz' : 'csv',
        fileMb: round(fileMb, 1),
        status: entry.status,
        silverRows: entry.silverRows ?? 0,
        rejectedRows: entry.rejectedRows ?? 0,
        handlerMs: entry.ms,
        goldMs: entry.goldMs ?? 0,
        rowsPerSecond: Math.round(rows / (entry.ms / 1000)),
        mbPerSecond: round(fileMb / (entry.ms / 1000), 1),
        uploadMs: Math.round(uploadMs),
        rssBeforeMb: Math.round(rssBefore / MB),
        peakRssMb: Math.round((process.resourceUsage().maxRSS * 1024) / MB),
      };
    } finally {
      await lakehouse.stop();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Runs one size in a fresh process (with tsx's loader, inherited through execArgv). */
function measureInChild(rows: number, gzip: boolean, memoryMb?: string): Promise<SizeResult> {
  return new Promise((resolveResult, reject) => {
    const args = ['--child', String(rows), ...(gzip ? ['--gzip'] : []), ...(memoryMb ? ['--memory-mb', memoryMb] : [])];
    const child = fork(__filename, args, { stdio: 'inherit' });
    let result: SizeResult | undefined;
    child.on('message', (message) => {
      result = message as SizeResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result) resolveResult(result);
      else reject(new Error(`the ${rows}-row run exited with ${code} and no result`));
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '10000,100000,1000000' },
      gzip: { type: 'boolean', default: false },
      'memory-mb': { type: 'string' },
      child: { type: 'string' },
    },
  });
  if (values.child) {
    const memoryMb = values['memory-mb'] ? Number(values['memory-mb']) : undefined;
    const result = await measure(Number(values.child), values.gzip, memoryMb);
    process.send?.(result);
    return;
  }

  const sizes = values.rows.split(',').map((raw) => {
    const rows = Number(raw.trim());
    if (!Number.isSafeInteger(rows) || rows <= 0) throw new Error(`--rows takes whole numbers, got ${raw}`);
    return rows;
  });
  const machine = {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  console.log(
    `${bold('Benchmark')}: the ingestion handler (silver + gold) over the local S3 server, one process per size`,
  );
  const duckdbMemory = values['memory-mb'] ? `as in a ${values['memory-mb']} MB Lambda` : 'DuckDB limit 2 GB';
  console.log(
    dim(`${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}; ${duckdbMemory}\n`),
  );

  const results: SizeResult[] = [];
  for (const rows of sizes) {
    process.stdout.write(dim(`  ${formatCount(rows)} rows... `));
    const result = await measureInChild(rows, values.gzip, values['memory-mb']);
    results.push(result);
    process.stdout.write(dim(`${result.status} in ${(result.handlerMs / 1000).toFixed(1)} s\n`));
  }

  console.log(`\n${resultsTable(results)}`);
  console.log(
    dim(
      '\nhandler: wall time of handleS3Event (download, DuckDB, silver upload, gold update); ' +
        'peak RSS: the whole process (S3 server, SDK, DuckDB).',
    ),
  );
  const out = join(REPO_ROOT, '.bench', 'results.json');
  await mkdir(join(REPO_ROOT, '.bench'), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify({ at: new Date().toISOString(), machine, lambdaMemoryMb: values['memory-mb'] ?? null, results }, null, 2)}\n`,
  );
  console.log(dim(`written to ${out}`));
  if (results.some((result) => result.status !== 'ingested')) process.exitCode = 1;
}

function resultsTable(results: SizeResult[]): string {
  return table(
    ['rows', 'file', 'MB', 'handler s', 'of which gold s', 'rows/s', 'MB/s', 'peak RSS MB'],
    results.map((result) => [
      formatCount(result.rows),
      result.file,
      result.fileMb.toFixed(1),
      (result.handlerMs / 1000).toFixed(2),
      (result.goldMs / 1000).toFixed(2),
      formatCount(result.rowsPerSecond),
      result.mbPerSecond.toFixed(1),
      String(result.peakRssMb),
    ]),
  );
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
