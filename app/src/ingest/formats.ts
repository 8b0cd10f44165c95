import { open } from 'node:fs/promises';

export type DataFormat = 'csv' | 'json' | 'parquet';
export type Compression = 'none' | 'gzip' | 'zstd';

export interface DetectedFormat {
  format: DataFormat;
  compression: Compression;
}

const MAGIC = {
  gzip: Buffer.from([0x1f, 0x8b]),
  zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  parquet: Buffer.from('PAR1'),
};

const EXTENSION_FORMATS: Record<string, DataFormat> = {
  csv: 'csv',
  tsv: 'csv',
  txt: 'csv',
  tab: 'csv',
  json: 'json',
  ndjson: 'json',
  jsonl: 'json',
  parquet: 'parquet',
  pq: 'parquet',
};

/** What the key's extensions claim: `a.csv.gz` -> csv + gzip. */
export function formatFromKey(key: string): { format?: DataFormat; compression: Compression } {
  const parts = key.toLowerCase().split('/').pop()?.split('.').slice(1) ?? [];
  let compression: Compression = 'none';
  const last = parts.at(-1);
  if (last === 'gz' || last === 'gzip') compression = 'gzip';
  if (last === 'zst' || last === 'zstd') compression = 'zstd';
  if (compression !== 'none') parts.pop();
  const ext = parts.at(-1);
  return { format: ext ? EXTENSION_FORMATS[ext] : undefined, compression };
}

/** Format of uncompressed text from its first bytes: JSON starts with `[` or `{`. */
export function textFormat(head: string): DataFormat {
  const first = head.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '[' || first === '{' ? 'json' : 'csv';
}

/**
 * Decides the format from the content where it can (magic bytes are
 * unambiguous), and from the key otherwise: a wrong or missing extension does
 * not matter. `peekText` returns the start of a compressed file's decompressed content.
 */
export async function detectFormat(
  path: string,
  key: string,
  peekText: (path: string, compression: Compression) => Promise<string>,
): Promise<DetectedFormat> {
  const head = await readHead(path, 4096);
  const claimed = formatFromKey(key);
  if (head.subarray(0, 4).equals(MAGIC.parquet)) return { format: 'parquet', compression: 'none' };
  let compression: Compression = 'none';
  if (head.subarray(0, 2).equals(MAGIC.gzip)) compression = 'gzip';
  else if (head.subarray(0, 4).equals(MAGIC.zstd)) compression = 'zstd';
  if (compression === 'none') return { format: textFormat(head.toString('utf8')), compression };
  // Compressed: trust a claimed parquet (DuckDB will tell), otherwise look inside.
  if (claimed.format === 'parquet') return { format: 'parquet', compression };
  return { format: textFormat(await peekText(path, compression)), compression };
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await file.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
