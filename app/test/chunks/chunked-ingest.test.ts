import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { SOURCE_LAST_MODIFIED_METADATA, silverKey } from '@lakehouse/contract';
import { TRIP_COLUMNS } from '../../local/trip-generator';
import { processChunk } from '../../src/chunks/process-chunk';
import type { Dataset } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import { detectFormat } from '../../src/ingest/formats';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { csvDialectOf } from '../../src/ingest/read-raw';
import { withConnection } from '../../src/io/duckdb';
import { deleteObject } from '../../src/io/s3-io';
import type { Runtime } from '../../src/runtime';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { BUCKETS, eventOf, runtimeThrough, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { failingStagedPart, publishedFile } from '../support/published';
import { trip, tripsCsv, tripsToSplit } from '../support/trips';

describe('files in chunks: exactly the single-invocation result', () => {
  let single: TestLakehouse;
  let chunked: TestLakehouse;
  let proxy: FaultProxy;
  let chunkedRt: Runtime;
  const chunkBytes = 600;
  beforeAll(async () => {
    [single, chunked] = await Promise.all([startTestLakehouse(), startTestLakehouse()]);
    proxy = await startFaultProxy(chunked.s3.endpoint);
    const rt = runtimeThrough(chunked, proxy.endpoint);
    chunkedRt = { ...rt, chunks: { chunkBytes, concurrency: 2, retryDelaysMs: [10, 20] } };
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([single.close(), chunked.close()]);
  });
  afterEach(() => proxy.clear());

  async function ingest(lake: TestLakehouse, rt: Runtime, key: string, body: string | Buffer): Promise<IngestOutcome> {
    const [outcome] = await handleS3Event(eventOf(await lake.upload(key, body)), rt);
    if (!outcome) throw new Error('no outcome');
    return outcome;
  }

  it('gives the same rows, rejects, lineage and gold, and leaves no part behind', async () => {
    const body = tripsToSplit();
    const whole = await ingest(single, single.rt, 'trips/jan.csv', body);
    const inChunks = await ingest(chunked, chunkedRt, 'trips/jan.csv', body);

    expect(inChunks).toMatchObject({ status: 'ingested', chunks: expect.any(Number) });
    expect((inChunks as { chunks: number }).chunks).toBeGreaterThanOrEqual(
      Math.floor(Buffer.byteLength(body) / chunkBytes) - 1,
    );
    expect(whole).not.toHaveProperty('chunks');
    const expected = await publishedFile(single, whole);
    expect(expected.rejects.map((row) => row._rule)).toEqual(
      expect.arrayContaining(['fare_non_negative', 'csv_too_many_columns', 'csv_missing_columns']),
    );
    expect(expected.gold.length).toBeGreaterThan(0);
    expect(await publishedFile(chunked, inChunks)).toEqual(expected);
    expect(await chunked.list(BUCKETS.silver, '_chunks/')).toEqual([]);
    // Both silver objects carry their raw object's upload time, which orders them in gold.
    for (const [lake, outcome] of [
      [single, whole],
      [chunked, inChunks],
    ] as const) {
      const client = lake.s3.client();
      const raw = await client.send(new HeadObjectCommand({ Bucket: BUCKETS.raw, Key: 'trips/jan.csv' }));
      const silver = await client.send(
        new HeadObjectCommand({ Bucket: BUCKETS.silver, Key: (outcome as { silverKey: string }).silverKey }),
      );
      expect(silver.Metadata?.[SOURCE_LAST_MODIFIED_METADATA]).toBe(String((raw.LastModified?.getTime() ?? 0) / 1000));
    }
  });

  it('makes of a chunk a staged part (rules applied, not yet silver) and its unreadable lines, as plain JSON', async () => {
    const body = tripsToSplit();
    const record = await chunked.upload('trips/parts.csv', body);
    const { eTag } = record.s3.object;
    const path = join(chunked.cfg.workDir, 'parts.csv');
    await writeFile(path, body);
    const detected = await detectFormat(path, 'trips/parts.csv');
    const dialect = await withConnection(chunked.cfg, (connection) => csvDialectOf(connection, path, detected));
    const headerEnd = body.indexOf('\n') + 1;
    // The second chunk holds the line with too many columns (the 31st line of the file).
    const lineStarts = [...body.matchAll(/\n/g)].map((match) => (match.index as number) + 1);
    const [start, end] = [lineStarts[19] as number, lineStarts[39] as number];
    const job = {
      s3: chunkedRt.s3,
      cfg: chunked.cfg,
      object: { bucket: BUCKETS.raw, key: 'trips/parts.csv', eTag },
      version: eTag,
      dataset: chunkedRt.datasets.get('trips') as Dataset,
      source: { format: 'csv' as const, detected, dialect, header: Buffer.from(body.slice(0, headerEnd)) },
      lineage: { sourceKey: 'trips/parts.csv', sourceEtag: eTag, ingestedAt: new Date() },
    };

    const part = await processChunk(job, { index: 1, start, end });

    expect(JSON.parse(JSON.stringify(part))).toEqual(part);
    expect(part).toMatchObject({ index: 1, stagedRows: 19, rejectedLines: 1, lineFeeds: 20, prefixLines: 1 });
    const staged = await chunked.readParquet(BUCKETS.silver, part.stagedKey);
    expect(staged).toHaveLength(19);
    // Staged, not published: the rules' verdict is there, the lineage and row numbers come with the commit.
    expect(Object.keys(staged[0] as object)).toEqual(expect.arrayContaining(['_passed', '_raw']));
    expect(staged[0]).not.toHaveProperty('_source_row');
    expect(staged[0]).not.toHaveProperty('_source_key');
    const lines = await chunked.readParquet(BUCKETS.silver, part.linesKey as string);
    // Line 12 of the chunk file, the header put in front: line 31 of the whole file.
    expect(lines).toMatchObject([{ _rule: 'csv_too_many_columns', _source_line: 12n }]);
    for (const key of await chunked.list(BUCKETS.silver, '_chunks/')) {
      await deleteObject(chunkedRt.s3, BUCKETS.silver, key);
    }
  });

  it('gives the same result for Parquet split by row groups', async () => {
    const select = `select 'p' || lpad(i::varchar, 5, '0') as trip_id,
                           timestamp '2026-01-10 08:30:00' + to_days((i % 5)::int) as pickup_at,
                           3.5 as distance_km,
                           case when i % 13 = 0 then -1 else 10 + i % 7 end as fare,
                           1 as passengers,
                           'card' as payment_type,
                           case when i % 3 = 0 then 'Harbour, North' else 'Downtown' end as pickup_zone
                    from range(10000) as t(i)`;
    const path = join(single.cfg.workDir, 'rows.parquet');
    await withConnection(single.cfg, (connection) =>
      connection.run(`copy (${select}) to '${path}' (format parquet, row_group_size 2048)`),
    );
    const body = await readFile(path);
    const rowGroupsRt = {
      ...chunkedRt,
      chunks: { chunkBytes: Math.ceil(body.length / 3), concurrency: 2, retryDelaysMs: [] },
    };

    const whole = await ingest(single, single.rt, 'trips/rows.parquet', body);
    const inChunks = await ingest(chunked, rowGroupsRt, 'trips/rows.parquet', body);

    expect(inChunks).toMatchObject({ status: 'ingested', format: 'parquet', chunks: expect.any(Number) });
    expect((inChunks as { chunks: number }).chunks).toBeGreaterThanOrEqual(2);
    expect(await publishedFile(chunked, inChunks)).toEqual(await publishedFile(single, whole));
  });

  it('reads a file with a quoted line break whole, saying why', async () => {
    const rows = Array.from({ length: 40 }, (_, i) =>
      trip({ trip_id: `q${i}`, pickup_zone: i === 25 ? 'Two\nlines' : 'Downtown' }),
    );

    const outcome = await ingest(chunked, chunkedRt, 'trips/quoted.csv', tripsCsv(rows));

    expect(outcome).toMatchObject({
      status: 'ingested',
      silverRows: 40,
      notSplit: expect.stringMatching(/quoted field hold/),
    });
    expect(outcome).not.toHaveProperty('chunks');
  });

  /** Ingested whole and in chunks of `chunkBytes`: both outcomes, and both ways' published files when ingested. */
  async function bothWays(key: string, body: string | Buffer, chunkBytes: number) {
    const rt = { ...chunkedRt, chunks: { chunkBytes, concurrency: 2, retryDelaysMs: [] } };
    const whole = await ingest(single, single.rt, key, body);
    const inChunks = await ingest(chunked, rt, key, body);
    return { whole, inChunks };
  }

  it('reads the dialect from the rows DuckDB samples: blank lines do not count', async () => {
    // The first quoted value comes after more blank lines than the sniffer samples rows.
    const body = `${TRIP_COLUMNS.join(',')}\n${'\n'.repeat(20_481)}${tripsCsv([
      // A day of their own: gold's partition holds only this file's trips in both lakehouses.
      trip({ trip_id: 'b1', pickup_zone: 'Harbour, North', pickup_at: '2026-05-01 08:30:00' }),
      trip({ trip_id: 'b2', pickup_at: '2026-05-01 09:30:00' }),
    ])
      .split('\n')
      .slice(1)
      .join('\n')}`;

    const { whole, inChunks } = await bothWays('trips/blank-lines.csv', body, 10_000);

    expect(inChunks).toMatchObject({ status: 'ingested', silverRows: 2, chunks: expect.any(Number) });
    const published = await publishedFile(chunked, inChunks);
    expect(published.silver.map((row) => row.pickup_zone)).toEqual(['Harbour, North', 'Downtown']);
    // Other tests wrote other days into one lakehouse or the other: the file's own day is compared.
    const ownDay = ({ gold, ...rest }: typeof published) => ({
      ...rest,
      gold: gold.filter((entry) => String(entry[0]).includes('pickup_date=2026-05-01')),
    });
    expect(ownDay(published)).toEqual(ownDay(await publishedFile(single, whole)));
    expect(ownDay(published).gold).toHaveLength(1);
  });

  it('reads whole a file whose later rows quote, when its first rows show no quoting', async () => {
    const rows = Array.from({ length: 20_500 }, (_, i) => trip({ trip_id: `u${i}`, pickup_at: '2026-05-02 08:30:00' }));
    const body = tripsCsv([
      ...rows,
      trip({ trip_id: 'u-last', pickup_zone: 'Harbour, North', pickup_at: '2026-05-02 09:00:00' }),
    ]);

    const { whole, inChunks } = await bothWays('trips/late-quotes.csv', body, 200_000);

    expect(inChunks).toMatchObject({
      status: 'ingested',
      notSplit: expect.stringMatching(/holds a double quote, but the file's first rows show no quoting/),
    });
    expect(inChunks).toMatchObject({ silverRows: (whole as { silverRows: number }).silverRows });
  });

  it('reads whole a file with a chunk that starts with a lone carriage return, as one invocation fails it', async () => {
    const [header, ...rows] = tripsCsv([trip({ trip_id: 'c1' }), trip({ trip_id: 'c2' }), trip({ trip_id: 'c3' })])
      .trimEnd()
      .split('\n');
    const body = `${header}\n${rows[0]}\n\r${rows[1]}\n${rows[2]}\n`;

    const { whole, inChunks } = await bothWays('trips/lone-cr.csv', body, 100);

    expect(whole).toMatchObject({ status: 'quarantined', reason: 'unreadable' });
    expect(inChunks).toMatchObject({
      status: 'quarantined',
      reason: 'unreadable',
      notSplit: expect.stringMatching(/starts with a carriage return no line feed follows/),
    });
  });

  it('checks the encoding of as many bytes as one invocation does', async () => {
    // A byte that is not UTF-8 after the rows the dialect is read from, within the first 2 MB.
    const rows = Array.from({ length: 20_500 }, (_, i) => trip({ trip_id: `e${i}` }));
    const body = Buffer.concat([
      Buffer.from(tripsCsv(rows)),
      Buffer.from('e-last,2026-01-15 08:30:00,1,1,1,card,Caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);

    const { whole, inChunks } = await bothWays('trips/latin1.csv', body, 200_000);

    expect(whole).toMatchObject({ status: 'quarantined', reason: 'encoding' });
    expect(inChunks).toMatchObject({ status: 'quarantined', reason: 'encoding' });
  });

  it.each([
    ['newline-delimited JSON', 'trips/rows.ndjson', /newline-delimited JSON is planned in chunks but read whole/],
    ['a file of a dataset without a folder', 'loose/rows.csv', /no dataset folder/],
  ])('reads %s whole, saying why', async (_, key, reason) => {
    const rows = Array.from({ length: 40 }, (_, i) => trip({ trip_id: `w${i}` }));
    const body = key.endsWith('.ndjson') ? rows.map((row) => JSON.stringify(row)).join('\n') : tripsCsv(rows);

    const outcome = await ingest(chunked, chunkedRt, key, body);

    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 40, notSplit: expect.stringMatching(reason) });
  });

  describe('a failing chunk', () => {
    const body = tripsToSplit();
    const partOfChunk2 = (key: string, eTag: string) => failingStagedPart(key, eTag, 2);

    it('is retried, and the file comes out the same', async () => {
      const record = await chunked.upload('trips/retried.csv', body);
      // More failures than the SDK's own attempts: the chunk's first run fails as a whole.
      proxy.inject({ ...partOfChunk2('trips/retried.csv', record.s3.object.eTag), times: 3 });

      const [outcome] = await handleS3Event(eventOf(record), chunkedRt);

      expect(proxy.faulted).toBe(3);
      const whole = await ingest(single, single.rt, 'trips/retried.csv', body);
      expect(outcome).toMatchObject({ status: 'ingested', silverRows: (whole as { silverRows: number }).silverRows });
    });

    it('quarantines the file as a whole when it fails for good, naming the chunk, with no part visible', async () => {
      const record = await chunked.upload('trips/broken.csv', body);
      const eTag = record.s3.object.eTag;
      proxy.inject({ ...partOfChunk2('trips/broken.csv', eTag), times: 1000 });

      const [outcome] = await handleS3Event(eventOf(record), chunkedRt);

      expect(outcome).toMatchObject({
        status: 'quarantined',
        reason: 'chunk-failed',
        error: expect.stringMatching(/^chunk 2 of \d+ \(bytes \d+-\d+\) failed after 3 attempts/),
      });
      expect(await chunked.list(BUCKETS.silver, '_chunks/')).toEqual([]);
      expect(await chunked.list(BUCKETS.silver)).not.toContain(silverKey('trips/broken.csv', eTag));
    });
  });
});
