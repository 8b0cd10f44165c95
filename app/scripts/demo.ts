/**
 * The whole pipeline on one machine, no AWS account: starts the local
 * lakehouse, uploads app/samples/** into raw, and shows what landed.
 *
 *   pnpm demo
 *   pnpm demo --console    # and keep the lakehouse and its web console open at the end
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { parseCommandLine } from '../local/command-line';
import { startConsoleNear } from '../local/console/console-server';
import { type LakehouseContents, readContents } from '../local/lakehouse-contents';
import { listLakehouseTables, tablesNamedIn, withLakehouseTables } from '../local/lakehouse-tables';
import {
  BUCKETS,
  DEFAULT_PORT,
  type EventLogEntry,
  type LocalLakehouse,
  PortInUseError,
  quietLocalLogs,
  REPO_ROOT,
  startLocalLakehouse,
} from '../local/local-lakehouse';
import { formatResult, runQuery } from '../local/query-results';
import { bold, dim, formatBytes, formatCount, green, red, table, yellow } from '../local/terminal';

const SAMPLES_DIR = resolve(__dirname, '..', 'samples');
/** What the demo ends with: a query of a gold table, as `pnpm query` (and Athena) runs it. */
const DEMO_QUERY =
  'select pickup_date, sum(trips) as trips, sum(fare_total) as fare_total from gold_trips_daily_zone_revenue group by all order by all';
const PER_FILE_TIMEOUT_MS = 120_000;

const USAGE = `pnpm demo

Starts a local lakehouse (127.0.0.1:${DEFAULT_PORT}, or a free port if that one is taken; data in a
temporary folder), uploads the files under app/samples/ into raw one by one, and shows what
landed: silver with row counts, rejected rows by rule, quarantined files with their reason,
gold, and ends with a pnpm query of the gold table. Exits 0, or 1 if a file failed.

  --console    serve the web console while the demo runs (127.0.0.1:4567, or a free port if that
               one is taken), and keep it and the lakehouse open at the end until Ctrl-C
  -h, --help   this help`;

async function main(): Promise<number> {
  const values = parseCommandLine(USAGE, { console: { type: 'boolean', default: false } });
  quietLocalLogs();
  // A fresh data folder each run: the demo is repeatable and leaves .lakehouse/ alone.
  const home = await mkdtemp(join(tmpdir(), 'lakehouse-demo-'));
  const start = (port: number) => startLocalLakehouse({ port, dataDir: join(home, 's3'), log: () => {} });
  const lakehouse = await start(DEFAULT_PORT).catch((error) => {
    if (error instanceof PortInUseError) return start(0);
    throw error;
  });
  const interrupted = () => {
    void lakehouse.abandon().finally(() => rm(home, { recursive: true, force: true }).finally(() => process.exit(130)));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  const webConsole = values.console ? await startConsoleNear(lakehouse) : undefined;

  try {
    console.log(
      `${bold('Local lakehouse')} on ${lakehouse.endpoint}${lakehouse.port !== DEFAULT_PORT ? dim(` (${DEFAULT_PORT} is taken)`) : ''}`,
    );
    if (webConsole) console.log(`${bold('Web console')} on ${webConsole.url}`);
    const files = await sampleFiles(SAMPLES_DIR);
    console.log(
      `Uploading ${files.length} sample files from ${relative(REPO_ROOT, SAMPLES_DIR)}/ into s3://${BUCKETS.raw}/\n`,
    );
    const entries = await uploadOneByOne(lakehouse, files);

    const contents = await readContents(lakehouse.client(), lakehouse.cfg);
    printContents(contents);
    await printQuery(lakehouse, DEMO_QUERY);

    const unexpected = entries.filter((entry) => entry.status === 'failed' || entry.status === 'abandoned');
    if (unexpected.length > 0) {
      console.error(red(`\n${unexpected.length} file(s) failed: ${unexpected.map((entry) => entry.key).join(', ')}`));
      return 1;
    }
    console.log(
      `\n${green('Done.')} Run ${bold('pnpm dev')} to keep a lakehouse running on 127.0.0.1:${DEFAULT_PORT}, upload your own files, ` +
        `and query them with ${bold('pnpm query')}.`,
    );
    return 0;
  } finally {
    if (webConsole) {
      process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
      console.log(`\nThe lakehouse and its console stay open: ${webConsole.url}  ${dim('(Ctrl-C stops them)')}`);
      await untilStopped();
      await webConsole.close();
    }
    await lakehouse.stop();
    await rm(home, { recursive: true, force: true });
  }
}

/** Resolves at the first Ctrl-C or SIGTERM; later ones (pnpm forwards the signal too) are ignored. */
function untilStopped(): Promise<void> {
  return new Promise((stopped) => {
    process.on('SIGINT', () => stopped()).on('SIGTERM', () => stopped());
  });
}

/** Every file under the samples folder; its path there is its raw key (`trips/2026-01-15.csv`). */
async function sampleFiles(dir: string): Promise<Array<{ path: string; key: string; bytes: number }>> {
  const files: Array<{ path: string; key: string; bytes: number }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sampleFiles(path)));
    else if (entry.isFile() && !entry.name.startsWith('.')) {
      files.push({ path, key: relative(SAMPLES_DIR, path).split(sep).join('/'), bytes: (await stat(path)).size });
    }
  }
  return files.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * One at a time, in name order, as files arriving through a day: a file that
 * re-sends a trip then reliably lands after the one it corrects.
 */
async function uploadOneByOne(
  lakehouse: LocalLakehouse,
  files: Array<{ path: string; key: string; bytes: number }>,
): Promise<EventLogEntry[]> {
  const client = lakehouse.client();
  const entries: EventLogEntry[] = [];
  const keyWidth = Math.max(...files.map((file) => file.key.length));
  for (const [index, file] of files.entries()) {
    const processed = lakehouse.whenProcessed(file.key);
    await new Upload({
      client,
      params: { Bucket: BUCKETS.raw, Key: file.key, Body: createReadStream(file.path) },
    }).done();
    const entry = await withTimeout(processed, PER_FILE_TIMEOUT_MS, `${file.key} was not processed`);
    entries.push(entry);
    const counter = dim(`[${index + 1}/${files.length}]`);
    console.log(
      `  ${counter} ${file.key.padEnd(keyWidth)}  ${formatBytes(file.bytes).padStart(8)}  ${describe(entry)}  ${dim(`${entry.ms} ms`)}`,
    );
  }
  return entries;
}

function describe(entry: EventLogEntry): string {
  switch (entry.status) {
    case 'ingested': {
      const rejected = entry.rejectedRows ? yellow(`, ${entry.rejectedRows} rejected`) : '';
      const gold = entry.goldMs ? ', gold updated' : '';
      return `${green('ingested')}     ${formatCount(entry.silverRows ?? 0)} rows to silver${rejected}${gold}`;
    }
    case 'quarantined':
      return `${yellow('quarantined')}  ${entry.reason}`;
    case 'skipped':
      return `skipped      ${entry.reason}`;
    default:
      return `${red(entry.status)}       ${entry.error}`;
  }
}

function printContents(contents: LakehouseContents): void {
  console.log(`\n${bold(`s3://${BUCKETS.silver}/`)} clean rows, Parquet`);
  console.log(
    table(
      ['object', 'rows'],
      contents.silver.map((object) => [object.key, formatCount(object.rows)]),
    ),
  );

  console.log(`\n${bold(`s3://${BUCKETS.silver}/_rejects/`)} rows that broke a rule, as written`);
  console.log(
    table(
      ['object', 'rows', 'rules broken'],
      contents.rejects.map((object) => [
        object.key,
        formatCount(object.rows),
        Object.entries(object.rules)
          .map(([rule, n]) => `${rule} ${n}`)
          .join(', '),
      ]),
    ),
  );

  console.log(`\n${bold(`s3://${BUCKETS.silver}/_quarantine/`)} files that cannot be processed`);
  console.log(
    table(
      ['raw file', 'reason', 'error'],
      contents.quarantined.map((record) => [record.source, record.reason, truncate(record.error, 70)]),
    ),
  );

  console.log(`\n${bold(`s3://${BUCKETS.gold}/`)} tables, one Parquet object per partition`);
  console.log(
    table(
      ['object', 'rows'],
      contents.gold.map((object) => [object.key, formatCount(object.rows)]),
    ),
  );
  console.log(dim(`  (+ ${contents.goldStateObjects} objects of incremental state under _state/)`));
}

/** A query over the lakehouse's tables, printed as `pnpm query` prints it. */
async function printQuery(lakehouse: LocalLakehouse, sql: string): Promise<void> {
  console.log(`\n${bold('pnpm query')} "${sql}"`);
  const client = lakehouse.client();
  const tables = tablesNamedIn(sql, await listLakehouseTables(client));
  const result = await withLakehouseTables(client, lakehouse.cfg, tables, (connection) => runQuery(connection, sql));
  console.log(formatResult(result, 'table'));
}

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(red(`demo failed: ${error.stack ?? error.message}`));
    process.exit(1);
  },
);
