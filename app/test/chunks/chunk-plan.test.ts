import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type LocalS3, startLocalS3 } from '@lakehouse/local-s3';
import { type ChunkPlan, HEAD_BYTES, planChunks } from '../../src/chunks/plan-chunks';
import { loadConfig } from '../../src/config';
import { withConnection } from '../../src/io/duckdb';
import { openRanged } from '../../src/io/s3-io';

describe('chunk plans: split points from small ranged GETs', () => {
  let s3: LocalS3;
  let dir: string;
  let cfg: ReturnType<typeof loadConfig>;
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['raw'] });
    dir = await mkdtemp(join(tmpdir(), 'chunk-plan-'));
    cfg = loadConfig({ SILVER_BUCKET: 's', GOLD_BUCKET: 'g', WORK_DIR: dir });
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (key: string, body: Buffer | string) =>
    s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: body }));

  /** Uploads `body` and plans it through the SDK, as the ingestion function would. */
  async function plan(key: string, body: Buffer | string, chunkBytes: number): Promise<ChunkPlan> {
    await put(key, body);
    const object = await openRanged(s3.client(), { bucket: 'raw', key }, HEAD_BYTES);
    return withConnection(cfg, (connection) => planChunks(object, { chunkBytes, connection, workDir: dir }));
  }

  const chunkBytesOf = (body: Buffer, plan: ChunkPlan) =>
    plan.mode === 'single' ? [] : plan.chunks.map(({ start, end }) => body.subarray(start, end));

  /** The rows DuckDB reads from CSV bytes, every value as text. */
  async function csvRows(connection: DuckDBConnection, bytes: Buffer, name: string): Promise<unknown[]> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const reader = await connection.runAndReadAll(
      `select * from read_csv('${path}', header = true, all_varchar = true)`,
    );
    return reader.getRowsJS();
  }

  describe('CSV', () => {
    /** Records of 37 bytes against chunks of 100: a record straddles every split point. */
    const lines = (count: number, eol: string, last = eol) =>
      [
        'id,name,amount',
        ...Array.from({ length: count }, (_, i) => `${String(i).padStart(6, '0')},"name, ${i % 10}",${i}.50`),
      ]
        .map((line, i, all) => line + (i === all.length - 1 ? last : eol))
        .join('');

    it.each([
      ['LF', '\n', '\n'],
      ['CRLF', '\r\n', '\r\n'],
      ['a final line without a line break', '\n', ''],
    ])(
      '%s: every chunk starts at the record after its split point, and the chunks read as the whole file',
      async (name, eol, last) => {
        const body = Buffer.from(lines(40, eol, last));
        const chunkBytes = 100;

        const result = await plan(`split-${name}.csv`, body, chunkBytes);

        expect(result).toMatchObject({
          mode: 'byte-ranges',
          format: 'csv',
          header: { start: 0, end: body.indexOf('\n') + 1 },
        });
        if (result.mode !== 'byte-ranges') throw new Error('not split');
        expect(Buffer.concat(chunkBytesOf(body, result))).toEqual(body);
        // Each chunk after the first starts after the line feed that ends the record straddling its split point.
        const headerEnd = body.indexOf(0x0a) + 1;
        const expectedStarts = new Set<number>();
        for (let target = chunkBytes; target < body.length; target += chunkBytes) {
          const start = body.indexOf(0x0a, target) + 1;
          if (start > headerEnd && start > 0 && start < body.length) expectedStarts.add(start);
        }
        expect(result.chunks.slice(1).map((chunk) => chunk.start)).toEqual([...expectedStarts]);
        const header = body.subarray(0, result.header?.end);
        await withConnection(cfg, async (connection) => {
          const whole = await csvRows(connection, body, `${name}-whole.csv`);
          const parts: unknown[] = [];
          for (const [i, bytes] of chunkBytesOf(body, result).entries()) {
            // The header is in the first chunk only: the others are read with it put back in front.
            expect(i === 0 || !bytes.includes(header)).toBe(true);
            parts.push(
              ...(await csvRows(connection, i === 0 ? bytes : Buffer.concat([header, bytes]), `${name}-${i}.csv`)),
            );
          }
          expect(parts).toEqual(whole);
          expect(whole).toHaveLength(40);
        });
      },
    );

    it('merges split points that fall in one record longer than a chunk', async () => {
      const long = `1,${'x'.repeat(250)}\n`;
      const body = Buffer.from(`id,text\n${long}2,short\n${long}3,end\n`);

      const result = await plan('long-records.csv', body, 100);

      if (result.mode !== 'byte-ranges') throw new Error(`not split: ${JSON.stringify(result)}`);
      const starts = result.chunks.map((chunk) => chunk.start);
      expect(new Set(starts).size).toBe(starts.length);
      expect(Buffer.concat(chunkBytesOf(body, result))).toEqual(body);
      for (const bytes of chunkBytesOf(body, result)) expect(bytes.at(-1)).toBe(0x0a);
    });

    it('sends a file with a quoted line break in its head to one invocation, saying why', async () => {
      const body = Buffer.from(`id,note\n1,"two\nlines"\n${'2,plain\n'.repeat(50)}`);

      expect(await plan('quoted-head.csv', body, 100)).toMatchObject({
        mode: 'single',
        reason: expect.stringMatching(/quoted field holding a line break/),
      });
    });

    it('finds a quoted line break near a split point far past the head', async () => {
      const filler = '1,plain value\n'.repeat(Math.ceil((HEAD_BYTES + 10_000) / 14));
      const body = Buffer.from(`id,note\n${filler}2,"a note\nover two lines"\n${filler}`);
      const chunkBytes = body.indexOf('"a note') + 5;

      expect(await plan('quoted-far.csv', body, chunkBytes)).toMatchObject({
        mode: 'single',
        reason: expect.stringMatching(/quoted field holding a line break/),
      });
    });

    it('splits a file whose quoted fields hold delimiters but no line breaks', async () => {
      const result = await plan('quoted-commas.csv', Buffer.from(lines(40, '\n')), 300);
      expect(result.mode).toBe('byte-ranges');
    });
  });

  describe('newline-delimited JSON', () => {
    it('splits at line breaks, with no header', async () => {
      const body = Buffer.from(Array.from({ length: 30 }, (_, i) => `{"id":${i},"text":"row ${i}"}\n`).join(''));

      const result = await plan('rows.ndjson', body, 120);

      if (result.mode !== 'byte-ranges') throw new Error('not split');
      expect(result).toMatchObject({ format: 'json' });
      expect(result).not.toHaveProperty('header');
      const records = chunkBytesOf(body, result).flatMap((bytes) =>
        bytes
          .toString()
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line)),
      );
      expect(records.map((record) => record.id)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    });

    it.each([
      ['a JSON array', `[${Array.from({ length: 30 }, (_, i) => `\n{"id":${i}}`).join(',')}\n]`, /JSON array/],
      [
        'pretty-printed JSON',
        `{\n  "rows": [\n${'    {"id": 1},\n'.repeat(30)}    {"id": 2}\n  ]\n}\n`,
        /not one record a line/,
      ],
    ])('sends %s to one invocation', async (_, text, reason) => {
      expect(await plan(`doc-${text.length}.json`, Buffer.from(text), 100)).toMatchObject({
        mode: 'single',
        reason: expect.stringMatching(reason),
      });
    });
  });

  describe('Parquet: row groups from the footer', () => {
    it('groups row groups into chunks, each knowing the rows before it', async () => {
      const path = join(dir, 'groups.parquet');
      await withConnection(cfg, (connection) =>
        connection.run(
          `copy (select range as id, md5(range::varchar) as text from range(50000)) to '${path}' (format parquet, row_group_size 10000)`,
        ),
      );
      const body = await readFile(path);

      const result = await plan('groups.parquet', body, Math.ceil(body.length / 3));

      if (result.mode !== 'row-groups') throw new Error(`not split: ${JSON.stringify(result)}`);
      expect(result.rows).toBe(50_000);
      expect(result.chunks.length).toBeGreaterThanOrEqual(2);
      expect(result.chunks.reduce((rows, chunk) => rows + chunk.rows, 0)).toBe(50_000);
      let rowsBefore = 0;
      let rowGroup = 0;
      for (const chunk of result.chunks) {
        expect(chunk).toMatchObject({ rowsBefore, firstRowGroup: rowGroup });
        rowsBefore += chunk.rows;
        rowGroup += chunk.rowGroups;
      }
      expect(rowGroup).toBe(Math.ceil(50_000 / 10_240));
    });

    it('keeps a file of one row group whole', async () => {
      const path = join(dir, 'one-group.parquet');
      await withConnection(cfg, (connection) =>
        connection.run(`copy (select range as id from range(1000)) to '${path}' (format parquet)`),
      );

      expect(await plan('one-group.parquet', await readFile(path), 100)).toMatchObject({
        mode: 'single',
        reason: expect.stringMatching(/one row group/),
      });
    });
  });

  describe('what stays whole', () => {
    it.each([
      ['gzip', gzipSync(Buffer.from('id\n1\n'.repeat(500))), /gzip-compressed/],
      ['zstd', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(500, 1)]), /zstd-compressed/],
      ['a file of at most one chunk', Buffer.from('id\n1\n2\n'), /fits in one chunk/],
    ])('%s', async (name, body, reason) => {
      expect(await plan(`whole-${name}.csv`, body, 20)).toMatchObject({
        mode: 'single',
        reason: expect.stringMatching(reason),
      });
    });

    it('names the version it read, and reads only that version', async () => {
      const { ETag } = await put('changing.csv', 'id\n1\n2\n');
      const object = await openRanged(s3.client(), { bucket: 'raw', key: 'changing.csv' }, 3);
      expect(object).toMatchObject({ size: 7, eTag: ETag?.replace(/"/g, ''), head: Buffer.from('id\n') });

      await put('changing.csv', 'id\n3\n4\n5\n');

      await expect(object.read(3, 5)).rejects.toThrow();
    });
  });
});
