import { open } from 'node:fs/promises';
import { PoisonFileError } from '../errors';
import { readHead } from './compression';
import { CSV_MAX_LINE_BYTES } from './csv-dialect';
import { binaryKind, encodingProblem } from './file-kind';

export type DataFormat = 'csv' | 'json' | 'parquet';
export type Compression = 'none' | 'gzip' | 'zstd';

export interface DetectedFormat {
  format: DataFormat;
  compression: Compression;
  /** The start of a text file's content, decompressed (up to HEAD_BYTES). */
  head?: Buffer;
}

/** How much of a text file's content format detection reads: a CSV's header line must fit in it. */
export const HEAD_BYTES = CSV_MAX_LINE_BYTES + 1;

/** The bytes a file starts with, by what it is. */
export const MAGIC = {
  gzip: Buffer.from([0x1f, 0x8b]),
  zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  parquet: Buffer.from('PAR1'),
  encryptedParquet: Buffer.from('PARE'),
};

/** Whether `bytes` begin with `magic`. */
export const startsWith = (bytes: Buffer, magic: Buffer) => bytes.subarray(0, magic.length).equals(magic);

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
 * not matter. Text is read from its decompressed start, by streams, so a
 * first line of any length (a minified JSON array) is no obstacle. What is
 * not CSV, JSON or Parquet is a poison file named for what it is.
 */
export async function detectFormat(path: string, key: string): Promise<DetectedFormat> {
  const start = await readHead(path, 'none', 4);
  const claimed = formatFromKey(key);
  if (startsWith(start, MAGIC.parquet)) return { format: 'parquet', compression: 'none' };
  if (startsWith(start, MAGIC.encryptedParquet) && startsWith(await readTail(path, 4), MAGIC.encryptedParquet)) {
    throw new PoisonFileError(
      'unsupported-format',
      'Parquet with an encrypted footer (PARE magic): it can only be read with its encryption key, which the pipeline does not have',
    );
  }
  let compression: Compression = 'none';
  if (startsWith(start, MAGIC.gzip)) compression = 'gzip';
  else if (startsWith(start, MAGIC.zstd)) compression = 'zstd';
  // Compressed: trust a claimed parquet (DuckDB will tell), otherwise look inside.
  if (compression !== 'none' && claimed.format === 'parquet') return { format: 'parquet', compression };
  const head = await readHead(path, compression, HEAD_BYTES);
  const compressed = compression === 'none' ? '' : `${compression}-compressed `;
  const binary = binaryKind(head);
  if (binary) throw new PoisonFileError('unsupported-format', `${compressed}${binary}, not CSV, JSON or Parquet`);
  const encoding = encodingProblem(head, head.length < HEAD_BYTES);
  if (encoding) throw new PoisonFileError('encoding', `${compressed}${encoding}`);
  return { format: textFormat(head.toString('utf8')), compression, head };
}

async function readTail(path: string, bytes: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const buffer = Buffer.alloc(Math.min(bytes, size));
    await file.read(buffer, 0, buffer.length, size - buffer.length);
    return buffer;
  } finally {
    await file.close();
  }
}
