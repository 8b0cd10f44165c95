import { gzipSync } from 'node:zlib';
import { loadDatasets } from '../../src/datasets';
import type { PoisonReason } from '../../src/errors';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { encryptedParquet, PEOPLE_SELECT, writeWithDuckDB, zstdWithDuckDB } from '../support/fixtures';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';
import { expectCleanOutcome } from './outcome-checks';

/**
 * Malformed and hostile files, each with the outcome it must have: read as
 * its header says with the lines that do not fit in rejects (with DuckDB's
 * error), or quarantined with a reason that says what the file is and why.
 * Never reshaped, never a failed invocation (a retry cannot help).
 */
type Expected =
  /** `rejected`: [line, rule] of each reject; line 0 for a row that broke a dataset rule (it has a row, not a line). */
  | { ingested: { rows: number; columns?: string[]; rejected?: Array<[line: number, rule: string]> } }
  | { quarantined: PoisonReason; error: RegExp };

interface Case {
  name: string;
  key: string;
  body: (lake: TestLakehouse) => Promise<Buffer> | Buffer;
  expected: Expected;
}

const text = (value: string) => () => Buffer.from(value);
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(512)]);
const RANDOM = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 17) % 256));
const people = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, name: `person ${i}`, tags: ['a', 'b'] }));
/** A minified JSON array: one line of about 5 MB, over DuckDB's 2 MB CSV line limit. */
const MINIFIED_JSON = JSON.stringify(people(100_000));

/** Parquet whose footer declares a metadata length of 2 GB. */
async function absurdFooter(lake: TestLakehouse): Promise<Buffer> {
  const valid = await writeWithDuckDB(lake.cfg, PEOPLE_SELECT, 'format parquet');
  const lengthAt = valid.length - 8;
  valid.writeUInt32LE(0x7fffffff, lengthAt);
  return valid;
}

/**
 * Parquet whose first page header declares 2 GB of data: DuckDB's own single-column file with the page's
 * uncompressed size (a thrift varint right after the page type) rewritten.
 */
async function absurdPage(lake: TestLakehouse): Promise<Buffer> {
  const valid = await writeWithDuckDB(
    lake.cfg,
    'select range as a from range(1000)',
    'format parquet, compression uncompressed',
  );
  let end = 7;
  while ((valid[end] as number) & 0x80) end++;
  const declared = 2_000_000_000 * 2; // zigzag
  const varint: number[] = [];
  for (let n = declared; ; n = Math.floor(n / 128)) {
    varint.push(n >= 128 ? (n % 128) | 0x80 : n);
    if (n < 128) break;
  }
  return Buffer.concat([valid.subarray(0, 7), Buffer.from(varint), valid.subarray(end + 1)]);
}

/** One CSV line of `bytes`, gzipped as repeated members (tiny to build and upload). */
function gzippedLongLine(bytes: number): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024, 'a,'));
  return Buffer.concat(Array.from({ length: Math.ceil(bytes / (1024 * 1024)) }, () => member));
}

const CASES: Case[] = [
  // Generic path: the header is the contract.
  {
    name: 'CSV with a row of extra fields, then an unterminated quote',
    key: 'people/unterminated.csv',
    body: text('id,name\n1,Ada\n2,Linus,extra,more\n3,"Grace\n4,Bob\n'),
    expected: {
      ingested: {
        rows: 1,
        columns: ['id', 'name'],
        rejected: [
          [3, 'csv_too_many_columns'],
          [4, 'csv_unquoted_value'],
        ],
      },
    },
  },
  {
    name: 'CSV whose header has a space, one row with an extra field',
    key: 'people/orders.csv',
    body: text('Order Date,Amount\n2026-01-15,10\n2026-01-16,20,extra\n2026-01-17,30\n'),
    expected: { ingested: { rows: 2, columns: ['order_date', 'amount'], rejected: [[3, 'csv_too_many_columns']] } },
  },
  {
    name: 'semicolon CSV with ragged rows',
    key: 'people/ragged.csv',
    body: text('a;b;c\n1;2;3\n4;5\n6;7;8;9\n'),
    expected: {
      ingested: {
        rows: 1,
        columns: ['a', 'b', 'c'],
        rejected: [
          [3, 'csv_missing_columns'],
          [4, 'csv_too_many_columns'],
        ],
      },
    },
  },
  {
    name: 'CSV whose every row has more fields than its header (no line fits)',
    key: 'people/shifted.csv',
    body: text('id,name\n1,Ada,x\n2,Linus,y\n'),
    expected: {
      quarantined: 'unreadable',
      error:
        /^no line of the csv file could be read as its header says: line 2: Expected Number of Columns: 2 Found: 3; line 3: Expected Number of Columns: 2 Found: 3$/,
    },
  },
  {
    name: 'CSV with invalid UTF-8 past the first 2 MB',
    key: 'people/late-latin1.csv',
    body: () =>
      Buffer.concat([Buffer.from(`id,name\n${'1,x\n'.repeat(600_000)}`), Buffer.from('2,\xe9t\xe9\n3,y\n', 'latin1')]),
    expected: { ingested: { rows: 600_001, columns: ['id', 'name'], rejected: [[600_002, 'csv_invalid_encoding']] } },
  },
  {
    name: 'Hive text file (\\x01-delimited)',
    key: 'people/hive.txt',
    body: text('id\x01name\n1\x01Ada\n2\x01Linus\n'),
    expected: { ingested: { rows: 2, columns: ['id', 'name'] } },
  },
  // A dataset: lines that do not fit join the rule rejects.
  {
    name: 'trips CSV with a row of extra fields',
    key: 'trips/ragged.csv',
    body: () =>
      Buffer.from(
        `${tripsCsv([trip({ trip_id: 'a' }), trip({ trip_id: 'b', fare: -1 })])}c,2026-01-15 09:00:00,1,2,1,card,Downtown,extra\n`,
      ),
    expected: {
      ingested: {
        rows: 1,
        rejected: [
          [0, 'fare_non_negative'],
          [4, 'csv_too_many_columns'],
        ],
      },
    },
  },
  // Format detection without a line limit.
  {
    name: 'gzipped minified JSON array (one 5 MB line)',
    key: 'people/minified.json.gz',
    body: () => gzipSync(MINIFIED_JSON),
    expected: { ingested: { rows: 100_000, columns: ['id', 'name', 'tags'] } },
  },
  {
    name: 'zstd minified JSON array (one 5 MB line)',
    key: 'people/minified.json.zst',
    body: (lake) => zstdWithDuckDB(lake.cfg, MINIFIED_JSON),
    expected: { ingested: { rows: 100_000, columns: ['id', 'name', 'tags'] } },
  },
  // What the file is, and why it is refused.
  {
    name: 'an ELF executable',
    key: 'people/program.csv',
    body: () => ELF,
    expected: {
      quarantined: 'unsupported-format',
      error: /^binary data \(starts with bytes 7f 45 4c 46: an ELF executable\), not CSV, JSON or Parquet$/,
    },
  },
  {
    name: 'random binary data',
    key: 'people/noise.csv',
    body: () => RANDOM,
    expected: { quarantined: 'unsupported-format', error: /^binary data \(starts with bytes 11 94 17 9a\), not CSV/ },
  },
  {
    name: 'a ZIP archive (an .xlsx)',
    key: 'people/sheet.xlsx',
    body: () => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), Buffer.alloc(200)]),
    expected: {
      quarantined: 'unsupported-format',
      error: /^binary data \(starts with bytes 50 4b 03 04: a ZIP archive/,
    },
  },
  {
    name: 'Parquet with an encrypted footer',
    key: 'people/secret.parquet',
    body: (lake) => encryptedParquet(lake.cfg),
    expected: { quarantined: 'unsupported-format', error: /^Parquet with an encrypted footer \(PARE magic\)/ },
  },
  {
    name: 'Parquet declaring a 2 GB footer',
    key: 'people/absurd.parquet',
    body: absurdFooter,
    expected: { quarantined: 'unreadable', error: /^cannot read as parquet: Footer length error in the file$/ },
  },
  {
    name: 'Parquet whose page declares 2 GB',
    key: 'people/absurd-page.parquet',
    body: absurdPage,
    expected: {
      quarantined: 'too-large',
      error:
        /^needs more memory than DuckDB's limit of 2048 MB \(failed to allocate data of size 2\.0 GiB .*\): raise the function's memory_size/,
    },
  },
  {
    name: 'JSON cut short',
    key: 'people/cut.json',
    body: text('[{"id": 1, "name": '),
    expected: {
      quarantined: 'unreadable',
      error:
        /^cannot read as json: Malformed JSON in the file, at byte \d+ in record\/value \d+: unexpected end of data\.$/,
    },
  },
  {
    name: 'gzip data that does not decompress',
    key: 'people/fake.csv.gz',
    body: () => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(64, 0xff)]),
    expected: { quarantined: 'unreadable', error: /^starts like gzip but does not decompress: / },
  },
  // Encodings: UTF-8 is read; any other is quarantined, named.
  {
    name: 'Latin-1 CSV',
    key: 'people/latin1.csv',
    body: () => Buffer.from('name,city\nJosé,Zürich\n', 'latin1'),
    expected: {
      quarantined: 'encoding',
      error:
        /^text that is not UTF-8 \(Latin-1 or Windows-1252\?\): byte e9 on line 2 is not valid UTF-8; save it as UTF-8$/,
    },
  },
  {
    name: 'UTF-16 CSV with a byte-order mark',
    key: 'people/utf16.csv',
    body: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,city\nJosé,Zürich\n', 'utf16le')]),
    expected: {
      quarantined: 'encoding',
      error: /^UTF-16LE text \(byte-order mark ff fe\): only UTF-8 is read; save it as UTF-8$/,
    },
  },
  {
    name: 'UTF-8 CSV with a byte-order mark and multi-byte text',
    key: 'people/utf8.csv',
    body: () => Buffer.from('\uFEFFname,city\nJosé,Zürich\n李,東京\n'),
    expected: { ingested: { rows: 2, columns: ['name', 'city'] } },
  },
  // Sizes no CSV line may have.
  {
    name: 'CSV of one 100 MB line (gzipped)',
    key: 'people/one-line.csv.gz',
    body: () => gzippedLongLine(100 * 1024 * 1024),
    expected: {
      quarantined: 'unreadable',
      error: /^the first line is longer than 2,000,000 bytes, the longest CSV line/,
    },
  },
  {
    name: 'CSV with a million columns',
    key: 'people/million-columns.csv',
    body: () => Buffer.from(`${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')}\n`),
    expected: { quarantined: 'unreadable', error: /^the first line is longer than 2,000,000 bytes/ },
  },
  {
    name: 'CSV with 5,000 columns',
    key: 'people/wide.csv',
    body: () => {
      const columns = Array.from({ length: 5_000 }, (_, i) => i);
      return Buffer.from(`${columns.map((i) => `c${i}`).join(',')}\n${columns.join(',')}\n`);
    },
    expected: { ingested: { rows: 1 } },
  },
];

describe('hostile and malformed files: read as they say, or quarantined saying what they are', () => {
  let lake: TestLakehouse;
  beforeAll(async () => {
    lake = await startTestLakehouse(loadDatasets());
  });
  afterAll(() => lake.close());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, { key, body, expected }) => {
    const uploaded = await body(lake);
    const record = await lake.upload(key, uploaded);

    const [outcome] = (await handleS3Event(eventOf(record), lake.rt)) as IngestOutcome[];

    await expectCleanOutcome(lake, record, uploaded, outcome);
    if ('quarantined' in expected) {
      expect(outcome).toMatchObject({ status: 'quarantined', reason: expected.quarantined });
      const quarantined = outcome as Extract<IngestOutcome, { status: 'quarantined' }>;
      expect(quarantined.error).toMatch(expected.error);
      const saved = JSON.parse(await lake.getText(BUCKETS.silver, quarantined.quarantineKey));
      expect(saved).toMatchObject({ key, reason: expected.quarantined, error: quarantined.error });
      expect(saved.error).not.toContain(lake.cfg.workDir);
      return;
    }
    const { rows, columns, rejected = [] } = expected.ingested;
    expect(outcome).toMatchObject({ status: 'ingested', silverRows: rows, rejectedRows: rejected.length });
    const ingested = outcome as Extract<IngestOutcome, { status: 'ingested' }>;
    if (columns) {
      const described = await lake.readParquet(
        BUCKETS.silver,
        ingested.silverKey,
        'select column_name from (describe t)',
      );
      expect(described.map((row) => row.column_name).filter((name) => !String(name).startsWith('_'))).toEqual(columns);
    }
    if (rejected.length === 0) return;
    const rejects = await lake.readParquet(
      BUCKETS.silver,
      ingested.rejectsKey as string,
      'select coalesce(_source_line, 0) as line, _rule from t order by line',
    );
    expect(rejects.map((row) => [Number(row.line), row._rule])).toEqual(rejected);
  });

  it('keeps DuckDB’s error and the line as written in the rejects of a line that does not fit', async () => {
    const record = await lake.upload(
      'people/orders-again.csv',
      'Order Date,Amount\n2026-01-15,10\n2026-01-16,20,extra\n',
    );
    const [outcome] = await handleS3Event(eventOf(record), lake.rt);

    const rejects = await lake.readParquet(
      BUCKETS.silver,
      (outcome as { rejectsKey: string }).rejectsKey,
      'select _rule, _source_line, _error, _raw_line, _source_key from t',
    );
    expect(rejects).toEqual([
      {
        _rule: 'csv_too_many_columns',
        _source_line: 3n,
        _error: 'Expected Number of Columns: 2 Found: 3',
        _raw_line: '2026-01-16,20,extra',
        _source_key: 'people/orders-again.csv',
      },
    ]);
  });
});
