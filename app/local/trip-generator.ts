import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** The columns of the trips dataset, in file order. */
export const TRIP_COLUMNS = [
  'trip_id',
  'pickup_at',
  'distance_km',
  'fare',
  'passengers',
  'payment_type',
  'pickup_zone',
] as const;

export type TripFormat = 'csv' | 'ndjson';

export interface TripGeneratorOptions {
  rows: number;
  /** Same seed, same file. */
  seed?: number;
  /** Share of rows that break one rule of the trips contract (0 to 1). */
  badRatio?: number;
  format?: TripFormat;
  /** First pickup day (YYYY-MM-DD) and how many days the trips span. */
  startDate?: string;
  days?: number;
  /** Prefix of trip ids, so files generated with other prefixes do not share trips. */
  idPrefix?: string;
  /** Called as rows are written (every 64 KB or so): the rows so far. */
  onProgress?: (rows: number) => void;
}

export interface GeneratedTrips {
  rows: number;
  badRows: number;
  bytes: number;
}

/** Zones with their share of pickups, busiest first. */
const ZONES: Array<[string, number]> = [
  ['Downtown', 0.24],
  ['Midtown', 0.17],
  ['Airport', 0.13],
  ['Old Town', 0.11],
  ['University', 0.1],
  ['Harbor', 0.09],
  ['Riverside', 0.08],
  ['Stadium', 0.05],
  ['Hillcrest', 0.03],
];
/** As people type them: the contract trims and lowercases. */
const PAYMENTS: Array<[string, number]> = [
  ['card', 0.62],
  ['Card', 0.06],
  ['cash', 0.18],
  [' CASH ', 0.02],
  ['voucher', 0.06],
  ['unknown', 0.06],
];
/** One broken rule per bad row, as found in real exports. */
const BAD_ROWS: Array<(row: TripValues) => void> = [
  (row) => {
    row.fare = `-${row.fare}`;
  },
  (row) => {
    row.passengers = '12';
  },
  (row) => {
    row.passengers = '2.5';
  },
  (row) => {
    row.payment_type = 'bitcoin';
  },
  (row) => {
    row.pickup_at = '2026-02-30 25:61:00';
  },
  (row) => {
    row.trip_id = '';
  },
  (row) => {
    row.distance_km = '-0.4';
  },
];

type TripValues = Record<(typeof TRIP_COLUMNS)[number], string>;

/** mulberry32: a tiny seeded PRNG, good enough for test data and identical everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, weighted: Array<[T, number]>): T {
  let r = random();
  for (const [value, weight] of weighted) {
    r -= weight;
    if (r < 0) return value;
  }
  return (weighted.at(-1) as [T, number])[0];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Trips cluster around the morning and evening rush hours. */
function pickupSecondOfDay(random: () => number): number {
  const r = random();
  const hour = r < 0.3 ? 7 + random() * 3 : r < 0.6 ? 16 + random() * 3 : random() * 24;
  return Math.floor(hour * 3600) % 86_400;
}

/** A plausible trip: fare from a base plus distance, a few passengers, mostly card. */
export function tripRow(
  index: number,
  random: () => number,
  options: Required<Omit<TripGeneratorOptions, 'onProgress'>>,
): TripValues {
  const day = new Date(`${options.startDate}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + Math.floor(random() * options.days));
  const second = pickupSecondOfDay(random);
  const pickupAt = `${day.toISOString().slice(0, 10)} ${pad(Math.floor(second / 3600))}:${pad(Math.floor(second / 60) % 60)}:${pad(second % 60)}`;
  // Log-normal-ish distances: many short hops, a long tail to the airport.
  const distance = Math.min(80, Math.exp(0.6 + random() * 2.2) * 0.8);
  const fare = 3.5 + distance * 1.9 + random() * 4;
  const passengers = pick(random, [
    [1, 0.68],
    [2, 0.18],
    [3, 0.07],
    [4, 0.05],
    [0, 0.02],
  ]);
  return {
    trip_id: `${options.idPrefix}${pad(index, 8)}`,
    pickup_at: pickupAt,
    distance_km: distance.toFixed(2),
    fare: fare.toFixed(2),
    passengers: String(passengers),
    payment_type: pick(random, PAYMENTS),
    pickup_zone: pick(random, ZONES),
  };
}

function csvLine(values: TripValues): string {
  return `${TRIP_COLUMNS.map((column) => {
    const value = values[column];
    return /[",\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
  }).join(',')}\n`;
}

function ndjsonLine(values: TripValues): string {
  // Numbers as JSON numbers where they parse, as a real export would write them.
  const record: Record<string, string | number> = {};
  for (const column of TRIP_COLUMNS) {
    const value = values[column];
    const numeric = column === 'distance_km' || column === 'fare' || column === 'passengers';
    record[column] = numeric && value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return `${JSON.stringify(record)}\n`;
}

/**
 * Writes `rows` trips to `out` in chunks, waiting for the stream to drain, so
 * memory stays flat whatever the size. A path ending in `.gz` is gzipped.
 */
export async function writeTrips(out: string, options: TripGeneratorOptions): Promise<GeneratedTrips> {
  const { onProgress, ...given } = options;
  const resolved: Required<Omit<TripGeneratorOptions, 'onProgress'>> = {
    seed: 42,
    badRatio: 0.01,
    format: 'csv',
    startDate: '2026-01-15',
    days: 7,
    idPrefix: `t${options.seed ?? 42}-`,
    ...given,
  };
  const random = seededRandom(resolved.seed);
  const file = createWriteStream(out);
  const gzip = out.endsWith('.gz') ? createGzip() : undefined;
  if (gzip) gzip.pipe(file);
  const sink: Writable = gzip ?? file;
  const line = resolved.format === 'csv' ? csvLine : ndjsonLine;

  let badRows = 0;
  let chunk = resolved.format === 'csv' ? `${TRIP_COLUMNS.join(',')}\n` : '';
  for (let index = 1; index <= resolved.rows; index++) {
    const values = tripRow(index, random, resolved);
    if (random() < resolved.badRatio) {
      (BAD_ROWS[Math.floor(random() * BAD_ROWS.length)] as (row: TripValues) => void)(values);
      badRows++;
    }
    chunk += line(values);
    if (chunk.length >= 64 * 1024) {
      if (!sink.write(chunk)) await once(sink, 'drain');
      chunk = '';
      onProgress?.(index);
    }
  }
  sink.end(chunk);
  await finished(file);
  return { rows: resolved.rows, badRows, bytes: file.bytesWritten };
}
