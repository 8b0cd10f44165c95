import { normaliseColumnNames, snakeCase } from '../../src/ingest/column-names';
import { checkedDialect, firstLine } from '../../src/ingest/csv-dialect';
import { binaryKind, encodingProblem } from '../../src/ingest/file-kind';
import { formatFromKey, textFormat } from '../../src/ingest/formats';
import { decodeS3Key } from '../../src/ingest/s3-event';

describe('snakeCase', () => {
  it.each([
    ['PickupAt', 'pickup_at'],
    ['Pickup At', 'pickup_at'],
    ['pickup-at (UTC)', 'pickup_at_utc'],
    ['tripID', 'trip_id'],
    ['HTTPStatus', 'http_status'],
    ['Café Zone', 'cafe_zone'],
    ['  fare $ ', 'fare'],
  ])('%s -> %s', (name, expected) => {
    expect(snakeCase(name)).toBe(expected);
  });

  it('keeps names unique and never empty', () => {
    expect(normaliseColumnNames(['A B', 'a_b', '', '2nd', '$$'])).toEqual([
      'a_b',
      'a_b_2',
      'column_3',
      'c_2nd',
      'column_5',
    ]);
  });
});

describe('formats', () => {
  it.each([
    ['a.csv', 'csv', 'none'],
    ['a.TSV', 'csv', 'none'],
    ['a.jsonl.gz', 'json', 'gzip'],
    ['a.parquet', 'parquet', 'none'],
    ['dir.v2/a.csv.zst', 'csv', 'zstd'],
    ['no-extension', undefined, 'none'],
  ])('%s claims %s compressed %s', (key, format, compression) => {
    expect(formatFromKey(key)).toEqual({ format, compression });
  });

  it.each([
    ['[{"a":1}]', 'json'],
    ['\uFEFF  {"a":1}\n{"a":2}', 'json'],
    ['a,b\n1,2', 'csv'],
  ])('content %j is %s', (head, format) => {
    expect(textFormat(head)).toBe(format);
  });
});

describe('decodeS3Key', () => {
  it.each([
    ['a+b.csv', 'a b.csv'],
    ['a%2Bb.csv', 'a+b.csv'],
    ['100%25/x.csv', '100%/x.csv'],
    ['%C3%A9t%C3%A9/%E6%97%A5.csv', 'été/日.csv'],
  ])('%s -> %s', (encoded, decoded) => {
    expect(decodeS3Key(encoded)).toBe(decoded);
  });
});

describe('checkedDialect: the header line decides when the sniffer disagrees', () => {
  const sniffed = (delimiter: string, columnCount: number, skipRows = 0) => ({
    delimiter,
    quote: '',
    escape: '',
    header: true,
    skipRows,
    columnCount,
  });

  it('keeps a sniff that reads the header as the most columns', () => {
    expect(checkedDialect('a;b;c', sniffed(';', 3))).toMatchObject({ delimiter: ';', columns: ['a', 'b', 'c'] });
  });

  it.each([
    [
      'a sniff that splits the header into fewer columns',
      'Order Date,Amount',
      sniffed('|', 1),
      ',',
      ['Order Date', 'Amount'],
    ],
    ['a sniff that skips the header', 'a;b;c', sniffed(';', 4, 3), ';', ['a', 'b', 'c']],
    ['no sniff at all', '"x,y"\tz\tz', undefined, '\t', ['x,y', 'z', 'z_2']],
  ])('replaces %s', (_name, header, guess, delimiter, columns) => {
    expect(checkedDialect(header, guess)).toEqual({ delimiter, quote: '"', escape: '"', header: true, columns });
  });

  it('reads the first line up to a line break outside quotes', () => {
    expect(firstLine('\uFEFF"a\nb",c\r\n1,2')).toEqual({ line: '"a\nb",c', complete: true });
    expect(firstLine('a,b')).toEqual({ line: 'a,b', complete: false });
  });
});

describe('file kinds and encodings', () => {
  it.each([
    ['%PDF-1.7\n%\xe2\xe3\xcf\xd3\n\x00\x01', 'binary data (starts with bytes 25 50 44 46: a PDF document)'],
    ['SQLite format 3\x00\x10\x00', 'binary data (starts with bytes 53 51 4c 69: an SQLite database)'],
    ['id,name\n1,Ada\n', undefined],
    ['MZone,count\n1,2\n', undefined],
  ])('%j is %s', (head, kind) => {
    expect(binaryKind(Buffer.from(head, 'latin1'))).toBe(kind);
  });

  it('does not count a character cut by the end of the head as invalid UTF-8', () => {
    const text = Buffer.from('name\nZürich');
    expect(encodingProblem(text.subarray(0, text.length - 5), false)).toBeUndefined();
    expect(encodingProblem(text.subarray(0, 7), true)).toMatch(
      /^text that is not UTF-8 \(Latin-1 or Windows-1252\?\): byte c3 on line 2 /,
    );
  });
});
