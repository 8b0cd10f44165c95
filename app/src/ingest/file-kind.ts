import { isUtf8 } from 'node:buffer';

/**
 * What a file that is not CSV, JSON or Parquet looks like, from its first
 * bytes, so that a quarantine reason names it: "binary data (starts with
 * bytes 7f 45 4c 46: an ELF executable)" says what to do, a CSV reader's
 * error does not.
 */
const SIGNATURES: Array<{ at?: number; bytes: string | number[]; name: string }> = [
  { bytes: [0x7f, 0x45, 0x4c, 0x46], name: 'an ELF executable' },
  { bytes: 'MZ', name: 'a Windows executable' },
  { bytes: [0xcf, 0xfa, 0xed, 0xfe], name: 'a Mach-O executable' },
  { bytes: '%PDF', name: 'a PDF document' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], name: 'a ZIP archive (also .xlsx, .docx)' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], name: 'an old Office document (.xls, .doc)' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], name: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], name: 'a JPEG image' },
  { bytes: 'GIF8', name: 'a GIF image' },
  { bytes: 'BZh', name: 'bzip2 data (only gzip and zstd are read)' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz data (only gzip and zstd are read)' },
  { bytes: [0x04, 0x22, 0x4d, 0x18], name: 'LZ4 data (only gzip and zstd are read)' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], name: 'a 7-Zip archive' },
  { bytes: 'SQLite format 3', name: 'an SQLite database' },
  { bytes: 'ORC', name: 'an ORC file' },
  { bytes: 'ARROW1', name: 'an Arrow IPC file' },
  { bytes: [0x4f, 0x62, 0x6a, 0x01], name: 'an Avro container file' },
  { at: 257, bytes: 'ustar', name: 'a tar archive' },
];

const hex = (bytes: Buffer) => [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');

function matches(head: Buffer, { at = 0, bytes }: (typeof SIGNATURES)[number]): boolean {
  const expected = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  return head.subarray(at, at + expected.length).equals(expected);
}

/** Control bytes no text file holds (tab, newlines, form feed, escape and Hive's \x01 delimiter aside). */
function isControl(byte: number): boolean {
  return byte < 0x20 && ![0x01, 0x09, 0x0a, 0x0c, 0x0d, 0x1b].includes(byte);
}

/**
 * What the file is when its head is binary (a NUL byte, or more than 1 % of
 * control bytes), named by its signature when known; undefined when it reads
 * as text. UTF-16 text has NUL bytes but is text: see `encodingProblem`.
 */
export function binaryKind(head: Buffer): string | undefined {
  if (utf16Bom(head)) return undefined;
  const sample = head.subarray(0, 64 * 1024);
  let nul = false;
  let controls = 0;
  for (const byte of sample) {
    if (byte === 0) nul = true;
    else if (isControl(byte)) controls++;
  }
  if (!nul && controls <= sample.length / 100) return undefined;
  const signature = SIGNATURES.find((candidate) => matches(head, candidate));
  return `binary data (starts with bytes ${hex(head.subarray(0, 4))}${signature ? `: ${signature.name}` : ''})`;
}

function utf16Bom(head: Buffer): 'UTF-16LE' | 'UTF-16BE' | undefined {
  if (head[0] === 0xff && head[1] === 0xfe) return 'UTF-16LE';
  if (head[0] === 0xfe && head[1] === 0xff) return 'UTF-16BE';
  return undefined;
}

/**
 * Why text is not UTF-8, or undefined when it is (a character cut by the
 * end of the head does not count). DuckDB reads UTF-8 only here; reading a
 * Latin-1 or UTF-16 file as UTF-8 would either fail row by row or garble it.
 */
export function encodingProblem(head: Buffer, complete: boolean): string | undefined {
  const bom = utf16Bom(head);
  if (bom) return `${bom} text (byte-order mark ${hex(head.subarray(0, 2))}): only UTF-8 is read; save it as UTF-8`;
  const bad = firstInvalidUtf8(head, complete);
  if (bad === undefined) return undefined;
  const line = head.subarray(0, bad).toString('latin1').split('\n').length;
  return (
    `text that is not UTF-8 (Latin-1 or Windows-1252?): byte ${hex(head.subarray(bad, bad + 1))} on line ${line} ` +
    'is not valid UTF-8; save it as UTF-8'
  );
}

/** Offset of the first byte that is not valid UTF-8; undefined when there is none. */
function firstInvalidUtf8(bytes: Buffer, complete: boolean): number | undefined {
  if (isUtf8(bytes)) return undefined;
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i] as number;
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte <= 0xdf
          ? 2
          : byte >= 0xe0 && byte <= 0xef
            ? 3
            : byte >= 0xf0 && byte <= 0xf4
              ? 4
              : 0;
    if (length === 0) return i;
    if (i + length > bytes.length) return complete ? i : undefined;
    if (!isUtf8(bytes.subarray(i, i + length))) return i;
    i += length;
  }
  return undefined;
}
