/**
 * Writes a realistic trips file of any size, deterministic for a seed:
 * `pnpm generate-trips --rows 1000000 --out trips-1m.csv`.
 */
import { callerPath, exitWithUsageError, parseCommandLine, UsageError, wholeNumber } from '../local/command-line';
import { formatBytes, formatCount } from '../local/terminal';
import { type TripFormat, writeTrips } from '../local/trip-generator';

const USAGE = `pnpm generate-trips [options]

Writes generated trips (1 % of rows break a rule of the trips dataset) to a file.

  --rows N          trips (default 10000)
  --out PATH        the file, relative to where you run pnpm (default trips-<rows>.<format>);
                    a name ending in .gz is gzipped
  --format F        csv or ndjson (default csv)
  --seed N          same seed, same file (default 42)
  --bad-ratio R     share of rows that break a rule, 0 to 1 (default 0.01)
  --start DATE      first pickup day, YYYY-MM-DD (default 2026-01-15)
  --days N          days the pickups span (default 7)
  --id-prefix P     prefix of trip ids (default t<seed>-)
  -h, --help        this help`;

async function main(): Promise<void> {
  const values = parseCommandLine(USAGE, {
    rows: { type: 'string', default: '10000' },
    out: { type: 'string' },
    format: { type: 'string', default: 'csv' },
    seed: { type: 'string', default: '42' },
    'bad-ratio': { type: 'string', default: '0.01' },
    start: { type: 'string', default: '2026-01-15' },
    days: { type: 'string', default: '7' },
    'id-prefix': { type: 'string' },
  });
  const rows = wholeNumber('--rows', values.rows);
  const format = values.format as TripFormat;
  if (format !== 'csv' && format !== 'ndjson')
    throw new UsageError(`--format takes csv or ndjson, got "${values.format}"`);
  const badRatio = Number(values['bad-ratio']);
  if (!(badRatio >= 0 && badRatio <= 1)) {
    throw new UsageError(`--bad-ratio takes a number from 0 to 1, got "${values['bad-ratio']}"`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(values.start))
    throw new UsageError(`--start takes YYYY-MM-DD, got "${values.start}"`);

  const out = callerPath(values.out ?? `trips-${rows}.${format}`);
  const started = performance.now();
  let reported = started;
  const result = await writeTrips(out, {
    onProgress: (written) => {
      if (performance.now() - reported < 2000) return;
      reported = performance.now();
      process.stderr.write(
        `  ${formatCount(written)} of ${formatCount(rows)} trips (${Math.floor((100 * written) / rows)} %)\n`,
      );
    },
    rows,
    format,
    badRatio,
    seed: wholeNumber('--seed', values.seed),
    startDate: values.start,
    days: wholeNumber('--days', values.days),
    ...(values['id-prefix'] ? { idPrefix: values['id-prefix'] } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${out}: ${result.rows} rows (${result.badRows} bad), ${formatBytes(result.bytes)} in ${seconds.toFixed(1)} s`,
  );
}

main().catch((error: Error) => {
  if (error instanceof UsageError) exitWithUsageError(error);
  console.error(error.message);
  process.exit(1);
});
