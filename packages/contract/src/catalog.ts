import { createHash } from 'node:crypto';

/**
 * The names under which the lakehouse's tables appear in a catalog: the Glue
 * Data Catalog on AWS (so Athena and any Glue-aware engine read them) and
 * `pnpm query` locally, the same everywhere.
 */
export const DEFAULT_GLUE_DATABASE = 'lakehouse';
export const QUARANTINE_TABLE = 'quarantine';

/**
 * The quarantine record's fields, as catalog columns: one JSON object per
 * line, read by the OpenX JSON SerDe (the mapping turns camelCase fields into
 * snake_case columns).
 */
export const QUARANTINE_COLUMNS: ReadonlyArray<{ column: string; field: string }> = [
  { column: 'bucket', field: 'bucket' },
  { column: 'key', field: 'key' },
  { column: 'etag', field: 'etag' },
  { column: 'version_id', field: 'versionId' },
  { column: 'dataset', field: 'dataset' },
  { column: 'reason', field: 'reason' },
  { column: 'error', field: 'error' },
  { column: 'quarantined_at', field: 'quarantinedAt' },
];

/** What Glue and Athena accept as a table name, kept as is. */
const CLEAN_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/**
 * A dataset (or gold table) name as a catalog identifier. A name that is
 * already lowercase letters, digits and single underscores, starting with a
 * letter, stays as it is. Any other name is lowercased, its accents dropped,
 * every run of other characters made one `_`, and a `__` plus 8 hex digits of
 * the SHA-256 of the original name appended: `Trips 2026` -> `trips_2026__<hash>`.
 * A kept name never holds `__`, so a kept name and a changed one never meet,
 * and two changed names meet only if their hashes do.
 */
export function catalogName(name: string): string {
  if (CLEAN_NAME.test(name)) return name;
  const plain = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const stem = /^[a-z]/.test(plain) ? plain : `d_${plain}`.replace(/_+$/, '');
  return `${stem}__${hash}`;
}

export const silverTable = (dataset: string) => `silver_${catalogName(dataset)}`;
export const rejectsTable = (dataset: string) => `rejects_${catalogName(dataset)}`;
export const goldTable = (dataset: string, table: string) => `gold_${catalogName(dataset)}_${catalogName(table)}`;

/**
 * The Hive/Glue type of a DuckDB column type, as Athena reads it from the
 * Parquet DuckDB writes. Nested types map element by element.
 */
export function glueType(duckdbType: string): string {
  const type = duckdbType.trim();
  const upper = type.toUpperCase();
  if (upper.endsWith('[]')) return `array<${glueType(type.slice(0, -2))}>`;
  const nested = /^(STRUCT|MAP|UNION)\((.*)\)$/is.exec(type);
  if (nested) {
    const [, kind = '', inner = ''] = nested;
    const parts = splitTopLevel(inner);
    if (kind.toUpperCase() === 'MAP') return `map<${glueType(parts[0] ?? '')},${glueType(parts[1] ?? '')}>`;
    if (kind.toUpperCase() === 'STRUCT') {
      const fields = parts.map((part) => {
        const match = /^\s*("(?:[^"]|"")+"|\S+)\s+(.+)$/s.exec(part);
        const field = (match?.[1] ?? part).replace(/^"|"$/g, '').replace(/""/g, '"');
        return `${field.toLowerCase()}:${glueType(match?.[2] ?? 'VARCHAR')}`;
      });
      return `struct<${fields.join(',')}>`;
    }
    return 'string';
  }
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(type);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  return SCALAR_TYPES[upper] ?? 'string';
}

const SCALAR_TYPES: Record<string, string> = {
  BOOLEAN: 'boolean',
  TINYINT: 'tinyint',
  SMALLINT: 'smallint',
  INTEGER: 'int',
  BIGINT: 'bigint',
  HUGEINT: 'decimal(38,0)',
  UTINYINT: 'smallint',
  USMALLINT: 'int',
  UINTEGER: 'bigint',
  UBIGINT: 'decimal(20,0)',
  FLOAT: 'float',
  DOUBLE: 'double',
  VARCHAR: 'string',
  BLOB: 'binary',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  TIMESTAMP_S: 'timestamp',
  TIMESTAMP_MS: 'timestamp',
  TIMESTAMP_NS: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamp',
};

/** Splits `a INTEGER, b STRUCT(c INTEGER, d VARCHAR)` at its top-level commas. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '(') depth++;
    else if (!quoted && char === ')') depth--;
    else if (!quoted && depth === 0 && char === ',') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter(Boolean);
}
