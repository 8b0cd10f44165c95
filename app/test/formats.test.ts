import { normaliseColumnNames, snakeCase } from '../src/ingest/column-names';
import { formatFromKey, textFormat } from '../src/ingest/formats';
import { decodeS3Key } from '../src/ingest/s3-event';

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
