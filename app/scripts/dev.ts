/**
 * A local lakehouse that keeps running: an S3 endpoint with raw, silver and
 * gold, and the Lambda's handler run on every object created in raw.
 *
 * stdout carries one JSON line per event; the human notes (banner, events
 * starting, progress of long ones) go to stderr.
 */
import { join, relative } from 'node:path';
import { DEFAULT_CHUNK_THRESHOLD_MB } from '@lakehouse/contract';
import { callerPath, exitWithUsageError, parseCommandLine, UsageError, wholeNumber } from '../local/command-line';
import { ConsolePortInUseError, DEFAULT_CONSOLE_PORT, startConsoleNear } from '../local/console/console-server';
import { leftBehindNotice } from '../local/left-behind-notice';
import {
  DEFAULT_PORT,
  LAKEHOUSE_HOME,
  PortInUseError,
  quietLocalLogs,
  REPO_ROOT,
  startLocalLakehouse,
} from '../local/local-lakehouse';
import { bold, dim } from '../local/terminal';

const USAGE = `pnpm dev [options]

A local lakehouse: an S3 endpoint with the buckets raw, silver and gold; every
object created in raw runs the Lambda handler. One JSON line per event on
stdout; notes and progress on stderr.

  --port N          port on 127.0.0.1 (default ${DEFAULT_PORT}, or LAKEHOUSE_PORT; 0 picks a free one)
  --console-port N  port of the web console on 127.0.0.1 (default ${DEFAULT_CONSOLE_PORT}, or a free one
                    if that is taken; 0 picks a free one)
  --data-dir DIR    the lakehouse's folder: objects in DIR/s3, work files in DIR/work
                    (default ${relative(REPO_ROOT, LAKEHOUSE_HOME)}; kept across restarts)
  --concurrency N   events handled at once (default 4)
  --memory-mb N     act as a Lambda function of N MB: DuckDB gets its share of the
                    memory and as many threads as vCPUs (default: a 2 GB DuckDB limit)
  --chunk-mb N      process a CSV or Parquet file of a dataset with a folder above N MB in chunks:
                    split at record boundaries or row groups, each chunk to a part, then one
                    commit (default ${DEFAULT_CHUNK_THRESHOLD_MB}, as the stack's chunk_threshold_mb; 0: every file whole)
  --chunk-concurrency N
                    chunks of one file processed at once (default 2)
  -h, --help        this help

Ctrl-C stops: in-flight events finish first; a second Ctrl-C abandons them.`;

const say = (text = '') => process.stderr.write(`${text}\n`);
/** Signals this close together come from one key press. */
const SAME_PRESS_MS = 500;

async function main(): Promise<void> {
  const values = parseCommandLine(USAGE, {
    port: { type: 'string' },
    'console-port': { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    'data-dir': { type: 'string' },
    'memory-mb': { type: 'string' },
    'chunk-mb': { type: 'string', default: String(DEFAULT_CHUNK_THRESHOLD_MB) },
    'chunk-concurrency': { type: 'string', default: '2' },
  });
  const port = portFrom(values.port ?? process.env.LAKEHOUSE_PORT ?? String(DEFAULT_PORT));
  const consolePort =
    values['console-port'] === undefined ? undefined : portFrom(values['console-port'], '--console-port');
  const concurrency = wholeNumber('--concurrency', values.concurrency, 1);
  const lambdaMemoryMb =
    values['memory-mb'] === undefined ? undefined : wholeNumber('--memory-mb', values['memory-mb'], 128);
  const chunkBytes = wholeNumber('--chunk-mb', values['chunk-mb']) * 1024 ** 2;
  const chunkConcurrency = wholeNumber('--chunk-concurrency', values['chunk-concurrency'], 1);
  const home = values['data-dir'] ? callerPath(values['data-dir']) : LAKEHOUSE_HOME;
  quietLocalLogs();

  const lakehouse = await startLocalLakehouse({
    port,
    concurrency,
    lambdaMemoryMb,
    ...(chunkBytes ? { chunkBytes, chunkConcurrency } : {}),
    dataDir: join(home, 's3'),
    workDir: join(home, 'work'),
    notes: say,
  });
  const webConsole = await startConsoleNear(lakehouse, consolePort).catch(async (error) => {
    await lakehouse.stop();
    throw error;
  });
  printBanner(lakehouse.endpoint, home, webConsole.url);
  void leftBehindNotice(lakehouse).then(
    (notice) => notice && say(`${bold('Left behind by an earlier run:')} ${notice}\n`),
    (error: Error) => say(`could not look for raw objects left behind: ${error.message}`),
  );

  let signals = 0;
  let firstSignalAt = 0;
  const shutdown = (signal: string) => {
    // One Ctrl-C reaches this process twice: from the terminal (to the whole
    // process group) and forwarded by pnpm. Only a later press abandons.
    if (signals > 0 && performance.now() - firstSignalAt < SAME_PRESS_MS) return;
    signals++;
    firstSignalAt ||= performance.now();
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
    void webConsole.close();
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

function portFrom(raw: string, option = '--port'): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`${option} takes 0 to 65535, got "${raw}"`);
  return port;
}

function printBanner(endpoint: string, home: string, consoleUrl: string): void {
  const where = home === LAKEHOUSE_HOME ? relative(REPO_ROOT, home) : home;
  say(`${bold('Local lakehouse')} on ${endpoint}  ${dim(`(buckets raw, silver, gold; data kept in ${where})`)}`);
  say(`${bold('Web console')} on ${consoleUrl}  ${dim('(events, lineage, quality, upload; this machine only)')}`);
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
  if (error instanceof UsageError) exitWithUsageError(error);
  if (error instanceof ConsolePortInUseError) {
    say(`${error.message}: pick another with --console-port (0 picks a free one).`);
  } else if (error instanceof PortInUseError) {
    say(`${error.message}: is a lakehouse already running? Use --port or LAKEHOUSE_PORT to pick another.`);
  } else {
    say(error.stack ?? error.message);
  }
  process.exit(1);
});
