import { TRIP_COLUMNS } from '../../local/trip-generator';

/** Builds trips CSV files row by row, so each test states exactly what it sends. */
export interface TripRow {
  trip_id: string;
  pickup_at: string;
  distance_km: string | number;
  fare: string | number;
  passengers: string | number;
  payment_type: string;
  pickup_zone: string;
}

export function trip(overrides: Partial<TripRow> & Pick<TripRow, 'trip_id'>): TripRow {
  return {
    pickup_at: '2026-01-15 08:30:00',
    distance_km: 3.5,
    fare: 12.5,
    passengers: 1,
    payment_type: 'card',
    pickup_zone: 'Downtown',
    ...overrides,
  };
}

export function tripsCsv(rows: TripRow[]): string {
  const quote = (value: string | number) =>
    /[",\n]/.test(String(value)) ? `"${String(value).replace(/"/g, '""')}"` : String(value);
  return `${[TRIP_COLUMNS.join(','), ...rows.map((row) => TRIP_COLUMNS.map((c) => quote(row[c])).join(','))].join('\n')}\n`;
}
