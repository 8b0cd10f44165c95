import { silverKey } from '@lakehouse/contract';
import { handleS3Event } from '../../src/handler';
import {
  gzip,
  PEOPLE_CSV,
  PEOPLE_JSON_ARRAY,
  PEOPLE_NDJSON,
  PEOPLE_SELECT,
  PEOPLE_TSV,
  writeWithDuckDB,
} from '../support/fixtures';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';

describe('handler: raw -> silver over the S3 protocol', () => {
  let lake: TestLakehouse;
  beforeAll(async () => {
    lake = await startTestLakehouse(new Map());
  });
  afterAll(() => lake.close());

  /** Uploads, runs the server's own event through the handler, returns the silver rows. */
  async function ingest(key: string, body: string | Buffer) {
    const record = await lake.upload(key, body);
    const [outcome] = await handleS3Event(eventOf(record), lake.rt);
    if (outcome?.status !== 'ingested') throw new Error(`not ingested: ${JSON.stringify(outcome)}`);
    const rows = await lake.readParquet(BUCKETS.silver, outcome.silverKey, 'select * from t order by name');
    return { outcome, rows };
  }

  describe('formats and compression', () => {
    const cases: Array<[string, () => Promise<string | Buffer>, string]> = [
      ['people.csv', async () => PEOPLE_CSV, 'csv'],
      ['people.tsv', async () => PEOPLE_TSV, 'csv'],
      ['people.json', async () => PEOPLE_JSON_ARRAY, 'json'],
      ['people.ndjson', async () => PEOPLE_NDJSON, 'json'],
      ['people.parquet', () => writeWithDuckDB(lake.cfg, PEOPLE_SELECT, 'format parquet'), 'parquet'],
      ['people.csv.gz', async () => gzip(PEOPLE_CSV), 'csv+gzip'],
      ['people.ndjson.gz', async () => gzip(PEOPLE_NDJSON), 'json+gzip'],
      ['people.csv.zst', () => writeWithDuckDB(lake.cfg, PEOPLE_SELECT, 'format csv, compression zstd'), 'csv+zstd'],
      // The extension is missing or wrong: the content decides.
      ['no-extension', async () => PEOPLE_NDJSON, 'json'],
      ['mislabelled.csv', () => writeWithDuckDB(lake.cfg, PEOPLE_SELECT, 'format parquet'), 'parquet'],
      ['mislabelled.json', async () => gzip(PEOPLE_TSV), 'csv+gzip'],
    ];

    it.each(cases)('%s becomes snake_case silver Parquet with lineage', async (name, body, format) => {
      const key = `people/${name}`;
      const { outcome, rows } = await ingest(key, await body());

      expect(outcome).toMatchObject({ dataset: 'people', format, silverRows: 3, rejectedRows: 0 });
      expect(outcome.silverKey).toMatch(/^people\/.+\.parquet$/);
      expect(Object.keys(rows[0] as object)).toEqual([
        '_source_row',
        'name',
        'age',
        'joined_at',
        '_source_key',
        '_source_etag',
        '_source_version_id',
        '_ingested_at',
      ]);
      expect(rows.map((row) => [row.name, Number(row.age)])).toEqual([
        ['Ada', 36],
        ['Grace', 45],
        ['Linus', 29],
      ]);
      expect(rows[0]).toMatchObject({ _source_key: key, _source_etag: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(rows[0]?._ingested_at).toBeInstanceOf(Date);
    });

    it('keeps the types DuckDB inferred', async () => {
      const { rows } = await ingest('people/typed.csv', PEOPLE_CSV);
      expect(typeof rows[0]?.age).toBe('bigint');
      expect(rows[0]?.joined_at).toBeInstanceOf(Object);
      const types = await lake.readParquet(
        BUCKETS.silver,
        silverKey('people/typed.csv', rows[0]?._source_etag as string),
        "select column_name, column_type from (describe t) where column_name in ('age', 'joined_at')",
      );
      expect(types).toEqual([
        { column_name: 'age', column_type: 'BIGINT' },
        { column_name: 'joined_at', column_type: 'DATE' },
      ]);
    });
  });

  it('keeps a CSV whose late values do not fit the types sniffed from its start, as text', async () => {
    const lines = ['id,amount', ...Array.from({ length: 30000 }, (_, i) => `${i},${i}`), '30000,n/a'];
    const record = await lake.upload('people/late-text.csv', `${lines.join('\n')}\n`);
    const [outcome] = await handleS3Event(eventOf(record), lake.rt);

    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 30001 });
    const rows = await lake.readParquet(
      BUCKETS.silver,
      (outcome as { silverKey: string }).silverKey,
      "select id, amount from t where id in ('0', '30000') order by id",
    );
    expect(rows).toEqual([
      { id: '0', amount: '0' },
      { id: '30000', amount: 'n/a' },
    ]);
  });

  describe('keys', () => {
    it.each([
      ['people/with space/a b.csv', 'people'],
      ['people/plus+sign/1+1.csv', 'people'],
      ['people/100%/half%20.csv', 'people'],
      ['people/été/naïve-日本.csv', 'people'],
      ['people/2026/01/02/nested.csv', 'people'],
      ['top-level.csv', 'default'],
    ])('%s is decoded and filed under %s', async (key, dataset) => {
      const record = await lake.upload(key, PEOPLE_CSV);
      expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(key);
      const [outcome] = await handleS3Event(eventOf(record), lake.rt);
      expect(outcome).toMatchObject({ status: 'ingested', dataset });
      if (outcome?.status !== 'ingested') return;
      expect(outcome.silverKey.startsWith(`${dataset}/`)).toBe(true);
      const rows = await lake.readParquet(BUCKETS.silver, outcome.silverKey, 'select distinct _source_key from t');
      expect(rows).toEqual([{ _source_key: key }]);
    });

    it('skips folder markers and non-creation events with a reason', async () => {
      const marker = await lake.upload('people/folder/', '');
      const removal = { ...marker, eventName: 'ObjectRemoved:Delete' };
      const outcomes = await handleS3Event(eventOf(marker, removal), lake.rt);
      expect(outcomes).toEqual([
        { status: 'skipped', reason: 'folder marker' },
        { status: 'skipped', reason: 'event ObjectRemoved:Delete is not a creation' },
      ]);
    });
  });

  describe('events', () => {
    it('processes every record of an event', async () => {
      const first = await lake.upload('people/batch/one.csv', PEOPLE_CSV);
      const second = await lake.upload('people/batch/two.ndjson', PEOPLE_NDJSON);
      const outcomes = await handleS3Event(eventOf(first, second), lake.rt);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['ingested', 'ingested']);
      const silver = await lake.list(BUCKETS.silver, 'people/');
      expect(silver.filter((key) => key.includes('/one-') || key.includes('/two-'))).toHaveLength(2);
    });

    it('writes one silver object with the same content when an event is delivered twice', async () => {
      const record = await lake.upload('people/dup/again.csv', PEOPLE_CSV);
      const content = (key: string) =>
        lake.readParquet(BUCKETS.silver, key, 'select * exclude (_ingested_at) from t order by _source_row');

      const [first] = await handleS3Event(eventOf(record), lake.rt);
      const firstKey = (first as { silverKey: string }).silverKey;
      const firstContent = await content(firstKey);
      const [second] = await handleS3Event(eventOf(record), lake.rt);

      expect(second).toMatchObject({ status: 'ingested', silverKey: firstKey });
      expect(await lake.list(BUCKETS.silver, 'people/again-')).toEqual([firstKey]);
      expect(await content(firstKey)).toEqual(firstContent);
      expect(firstContent).toHaveLength(3);
    });

    it('never modifies the raw object', async () => {
      const record = await lake.upload('people/keep/me.csv', PEOPLE_CSV);
      await handleS3Event(eventOf(record), lake.rt);
      expect(await lake.getText(BUCKETS.raw, 'people/keep/me.csv')).toBe(PEOPLE_CSV);
    });
  });
});
