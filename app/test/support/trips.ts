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

/** Trips with rows that break rules, lines with too many or too few columns, quoted delimiters, CRLF line ends. */
export function tripsToSplit(): string {
  const rows = Array.from({ length: 80 }, (_, i) =>
    trip({
      trip_id: `t${String(i).padStart(3, '0')}`,
      pickup_at: `2026-01-${String(10 + (i % 5)).padStart(2, '0')} 08:30:00`,
      fare: i % 13 === 0 ? -1 : 10 + (i % 7),
      pickup_zone: i % 3 === 0 ? 'Harbour, North' : 'Downtown',
    }),
  );
  const lines = tripsCsv(rows).split('\n');
  // Lines DuckDB cannot read as the header says, far into the file.
  lines.splice(30, 0, 'bad,line,with,too,many,columns,here,and,more');
  lines.splice(61, 0, 'short,line');
  return lines.join('\r\n');
}
