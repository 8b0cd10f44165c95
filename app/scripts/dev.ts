/**
 * A local lakehouse that keeps running: an S3 endpoint with raw, silver and
 * gold, and the Lambda's handler run on every object created in raw.
 *
 *   pnpm dev [--port 4566] [--concurrency 4] [--data-dir .lakehouse/s3] [--memory-mb 2048]
 *
 * --memory-mb runs the handler as a Lambda function of that memory size would
 * (DuckDB gets its share); without it DuckDB gets a 2 GB limit.
 *
 * stdout carries one JSON line per event; the human notes go to stderr.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  PortInUseError,
  quietLocalLogs,
  REPO_ROOT,
  startLocalLakehouse,
} from '../local/local-lakehouse';
import { bold, dim } from '../local/terminal';

const say = (text = '') => process.stderr.write(`${text}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      'data-dir': { type: 'string' },
      'memory-mb': { type: 'string' },
    },
  });
  const port = portFrom(values.port ?? process.env.LAKEHOUSE_PORT ?? String(DEFAULT_PORT));
  const concurrency = Number(values.concurrency);
  const lambdaMemoryMb = values['memory-mb'] === undefined ? undefined : memoryMbFrom(values['memory-mb']);
  quietLocalLogs();

  const lakehouse = await startLocalLakehouse({
    port,
    concurrency,
    lambdaMemoryMb,
    // pnpm runs scripts from app/; a relative --data-dir means the caller's folder.
    ...(values['data-dir'] ? { dataDir: resolve(process.env.INIT_CWD ?? process.cwd(), values['data-dir']) } : {}),
  });
  printBanner(lakehouse.endpoint, lakehouse.dataDir);

  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) {
      say(`${signal} again: abandoning in-flight events (none leaves partial outputs)`);
      void lakehouse.abandon().finally(() => process.exit(130));
      return;
    }
    const { running, waiting } = lakehouse.stats();
    say(
      `\n${signal}: stopping; finishing ${running} in-flight event(s)${waiting ? `, dropping ${waiting} queued` : ''}. ` +
        'Press Ctrl-C again to abandon them.',
    );
    void lakehouse.stop().then(
      () => {
        say('stopped');
        process.exit(0);
      },
      (error: Error) => {
        say(`stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

function portFrom(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`not a port: ${raw}`);
  return port;
}

function memoryMbFrom(raw: string): number {
  const memoryMb = Number(raw);
  if (!Number.isSafeInteger(memoryMb) || memoryMb <= 0)
    throw new Error(`--memory-mb takes a whole number of MB, got ${raw}`);
  return memoryMb;
}

function printBanner(endpoint: string, dataDir: string): void {
  const where = dataDir === DEFAULT_DATA_DIR ? relative(REPO_ROOT, dataDir) : dataDir;
  say(`${bold('Local lakehouse')} on ${endpoint}  ${dim(`(buckets raw, silver, gold; data kept in ${where})`)}`);
  say('Every object created in raw runs the Lambda handler; one JSON line per event follows on stdout.\n');
  say(dim('In another shell:'));
  say(`  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1`);
  say(
    `  export AWS_REQUEST_CHECKSUM_CALCULATION=when_required  ${dim('# recent aws cli: this server predates flexible checksums')}`,
  );
  say(`  aws --endpoint-url ${endpoint} s3 cp app/samples/trips/2026-01-15.csv s3://raw/trips/`);
  say(`  aws --endpoint-url ${endpoint} s3 ls --recursive s3://silver/`);
  say(`  aws --endpoint-url ${endpoint} s3 ls --recursive s3://gold/trips/`);
  say(dim('\nCtrl-C stops (in-flight events finish first).\n'));
}

main().catch((error: Error) => {
  if (error instanceof PortInUseError) {
    say(`${error.message}: is a lakehouse already running? Use --port or LAKEHOUSE_PORT to pick another.`);
  } else {
    say(error.stack ?? error.message);
  }
  process.exit(1);
});
