import fc from 'fast-check';
import { BUCKETS, type TestLakehouse } from './lakehouse';
import { trip, tripsCsv } from './trips';

/**
 * Random trips files for property tests, and gold as a recomputation from
 * them: what gold must equal whatever order of events, faults and repairs led to it.
 */

/** One raw row: a trip from a small pool of ids, on one of three days; `valid: false` breaks a rule. */
export interface Row {
  id: number;
  day: number;
  zone: string;
  fare: number;
  passengers: number;
  distance: number;
  valid: boolean;
}

export const rowArbitrary: fc.Arbitrary<Row> = fc.record({
  // Few ids: trips come back in later files and within one, on other days and zones.
  id: fc.integer({ min: 0, max: 11 }),
  day: fc.integer({ min: 1, max: 3 }),
  zone: fc.constantFrom('Downtown', 'Airport'),
  fare: fc.integer({ min: 1, max: 50 }),
  passengers: fc.integer({ min: 0, max: 4 }),
  distance: fc.integer({ min: 1, max: 10 }),
  valid: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
});

/** A file of 1 to `maxRows` rows. */
export const fileArbitrary = (maxRows = 6) => fc.array(rowArbitrary, { minLength: 1, maxLength: maxRows });

export const csvOf = (rows: readonly Row[]) =>
  tripsCsv(
    rows.map((row) =>
      trip({
        trip_id: `r${row.id}`,
        pickup_at: `2026-04-0${row.day} 09:00:00`,
        pickup_zone: row.zone,
        fare: row.valid ? row.fare : -row.fare,
        passengers: row.passengers,
        distance_km: row.distance,
      }),
    ),
  );

/** Gold as a recomputation from files applied in this order: each trip's last valid row, by file, then row. */
export function expectedGold(files: readonly (readonly Row[])[]): string[] {
  const current = new Map<number, Row>();
  for (const row of files.flat()) if (row.valid) current.set(row.id, row);
  const groups = new Map<string, { trips: number; passengers: number; fare: number; distance: number }>();
  for (const row of current.values()) {
    const key = `2026-04-0${row.day} ${row.zone}`;
    const group = groups.get(key) ?? { trips: 0, passengers: 0, fare: 0, distance: 0 };
    group.trips++;
    group.passengers += row.passengers;
    group.fare += row.fare;
    group.distance += row.distance;
    groups.set(key, group);
  }
  return [...groups.entries()].map(([key, g]) => `${key} ${g.trips} ${g.passengers} ${g.fare} ${g.distance}`).sort();
}

/** The trips gold table, one line per group, in the form of `expectedGold`. */
export async function goldLines(lake: TestLakehouse): Promise<string[]> {
  const lines: string[] = [];
  for (const key of await lake.list(BUCKETS.gold, 'trips/daily_zone_revenue/')) {
    const rows = await lake.readParquet(
      BUCKETS.gold,
      key,
      `select strftime(pickup_date, '%Y-%m-%d') || ' ' || pickup_zone || ' ' || trips || ' ' || passengers
              || ' ' || fare_total::int || ' ' || distance_km_total::int as line from t`,
    );
    lines.push(...rows.map((row) => String(row.line)));
  }
  return lines.sort();
}

/** Fixed: the same cases in every run; FC_SEED explores others. */
export const FC_SEED = Number(process.env.FC_SEED ?? 20261126);
