/**
 * Writes a realistic trips file of any size, deterministic for a seed.
 *
 *   pnpm --filter @lakehouse/app exec tsx scripts/generate-trips.ts --rows 1000000 --out /tmp/trips.csv.gz
 *
 * Options: --rows N (default 10000), --out PATH (default trips-<rows>.csv; .gz compresses),
 * --format csv|ndjson, --seed N, --bad-ratio 0.01, --start YYYY-MM-DD, --days N, --id-prefix P.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatBytes } from '../local/terminal';
import { type TripFormat, writeTrips } from '../local/trip-generator';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '10000' },
      out: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      seed: { type: 'string', default: '42' },
      'bad-ratio': { type: 'string', default: '0.01' },
      start: { type: 'string', default: '2026-01-15' },
      days: { type: 'string', default: '7' },
      'id-prefix': { type: 'string' },
    },
  });
  const rows = wholeNumber('--rows', values.rows);
  const format = values.format as TripFormat;
  if (format !== 'csv' && format !== 'ndjson') throw new Error(`--format must be csv or ndjson, got ${values.format}`);
  const badRatio = Number(values['bad-ratio']);
  if (!(badRatio >= 0 && badRatio <= 1))
    throw new Error(`--bad-ratio must be between 0 and 1, got ${values['bad-ratio']}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(values.start)) throw new Error(`--start must be YYYY-MM-DD, got ${values.start}`);

  // pnpm runs scripts from the package folder; a relative --out means the caller's folder.
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out ?? `trips-${rows}.${format}`);
  const started = performance.now();
  const result = await writeTrips(out, {
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

function wholeNumber(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return value;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
