import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { schemaKey } from '@lakehouse/contract';
import { listLakehouseTables, withLakehouseTables } from '../../local/lakehouse-tables';
import { REPO_ROOT } from '../../local/local-lakehouse';
import { runQuery } from '../../local/query-results';
import { type Dataset, loadDatasets } from '../../src/datasets';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import type { DatasetSchema } from '../../src/schema/dataset-schema';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { trip, tripsCsv } from '../support/trips';

/** A dataset whose silver SQL passes every column through, and whose contract forbids new ones. */
const STRICT: Dataset = {
  name: 'sensors',
  requiredColumns: ['id'],
  rules: [],
  silverSql: 'select * from raw_input',
  goldTables: [],
  schemaEvolution: 'strict',
};

describe('pnpm query over a lakehouse whose schemas evolve', () => {
  let lake: TestLakehouse;

  beforeAll(async () => {
    lake = await startTestLakehouse(new Map([...loadDatasets(), [STRICT.name, STRICT]]));
  });
  afterAll(() => lake.close());

  async function ingest(key: string, body: string): Promise<IngestOutcome> {
    const [outcome] = await handleS3Event(eventOf(await lake.upload(key, body)), lake.rt);
    return outcome as IngestOutcome;
  }

  /** A query as `pnpm query` runs it: every table of the lakehouse, read over the S3 API. */
  async function query(sql: string) {
    const client = lake.s3.client();
    const tables = await listLakehouseTables(client);
    return withLakehouseTables(client, lake.cfg, tables, async (connection) => ({
      ...(await runQuery(connection, sql)),
      types: Object.fromEntries(
        (await connection.runAndReadAll(`describe ${sql.match(/from (\S+)/)?.[1]}`))
          .getRowObjectsJS()
          .map((row) => [row.column_name, row.column_type]),
      ),
    }));
  }

  const schemaOf = async (dataset: string) =>
    JSON.parse(await lake.getText(BUCKETS.silver, schemaKey(dataset))) as DatasetSchema;

  describe('a dataset without a folder (additive)', () => {
    it('starts its schema from the first file', async () => {
      const outcome = await ingest('people/1.csv', 'name,age,joined\nAda,36,2026-01-02\n');

      expect(outcome).toMatchObject({ status: 'ingested', schemaChanges: [{ change: 'created', version: 1 }] });
      const { rows, types } = await query('select name, age, joined from silver_people');
      expect(rows).toEqual([['Ada', 36, '2026-01-02']]);
      expect(types).toMatchObject({ name: 'VARCHAR', age: 'BIGINT', joined: 'DATE' });
    });

    it('adds a new column, which older rows read as null', async () => {
      const outcome = await ingest('people/2.csv', 'name,age,joined,city\nLinus,29,2026-02-03,Oslo\n');

      expect(outcome).toMatchObject({
        status: 'ingested',
        schemaChanges: [{ change: 'added', column: 'city', type: 'VARCHAR', version: 2, sourceKey: 'people/2.csv' }],
      });
      const { rows } = await query('select name, city from silver_people order by name');
      expect(rows).toEqual([
        ['Ada', null],
        ['Linus', 'Oslo'],
      ]);
    });

    it('widens bigint to double and date to timestamp, and records both; every file reads under the wider types', async () => {
      const outcome = await ingest('people/3.csv', 'name,age,joined\nGrace,45.5,2026-03-04 10:30:00\n');

      expect(outcome).toMatchObject({
        status: 'ingested',
        schemaChanges: [
          { change: 'widened', column: 'age', from: 'BIGINT', to: 'DOUBLE', version: 3 },
          { change: 'widened', column: 'joined', from: 'DATE', to: 'TIMESTAMP', version: 4 },
        ],
      });
      const { rows, types } = await query('select name, age, joined, city from silver_people order by name');
      expect(types).toMatchObject({ age: 'DOUBLE', joined: 'TIMESTAMP', city: 'VARCHAR' });
      expect(rows).toEqual([
        ['Ada', 36, '2026-01-02 00:00:00', null],
        ['Grace', 45.5, '2026-03-04 10:30:00', null],
        ['Linus', 29, '2026-02-03 00:00:00', 'Oslo'],
      ]);
    });

    it('casts a narrower type and text whose values all cast, without changing the schema', async () => {
      const outcome = await ingest('people/4.csv', 'name,age,joined\nEve,41,\n');

      expect(outcome).toMatchObject({ status: 'ingested' });
      expect(outcome).not.toHaveProperty('schemaChanges');
      const { rows } = await query("select age, joined from silver_people where name = 'Eve'");
      expect(rows).toEqual([[41, null]]);
      expect((await schemaOf('people')).version).toBe(4);
    });

    it('quarantines a type that cannot be read under the schema, naming the column and both types', async () => {
      const outcome = await ingest('people/5.csv', 'name,age\nBob,unknown\n');

      expect(outcome).toMatchObject({ status: 'quarantined', reason: 'schema' });
      const error = (outcome as { error: string }).error;
      expect(error).toContain('column age is VARCHAR in this file but DOUBLE');
      expect(error).toContain('"unknown"');
      const { rows } = await query('select count(*) as n from silver_people');
      expect(rows).toEqual([[4]]);
      expect(await lake.list(BUCKETS.silver, 'people/5-')).toEqual([]);
    });

    it('keeps every column of two files ingested at once', async () => {
      const outcomes = await Promise.all([
        ingest('people/6.csv', 'name,age,team\nKen,50,red\n'),
        ingest('people/7.csv', 'name,age,floor\nRob,51,3\n'),
      ]);

      expect(outcomes.map((outcome) => outcome.status)).toEqual(['ingested', 'ingested']);
      const schema = await schemaOf('people');
      expect(schema.columns.map((column) => column.name)).toEqual(expect.arrayContaining(['team', 'floor']));
      expect(schema.version).toBe(6);
      const { rows } = await query(
        'select name, team, floor from silver_people where team is not null or floor is not null order by name',
      );
      expect(rows).toEqual([
        ['Ken', 'red', null],
        ['Rob', null, 3],
      ]);
    });
  });

  describe('a dataset whose contract says "schemaEvolution": "strict"', () => {
    it('quarantines a file with a new column, and the table reads as before', async () => {
      await ingest('sensors/1.csv', 'id,temp\n1,20\n');

      const outcome = await ingest('sensors/2.csv', 'id,temp,humidity\n2,21,40\n');

      expect(outcome).toMatchObject({ status: 'quarantined', reason: 'schema' });
      expect((outcome as { error: string }).error).toMatch(/column humidity .* new .*strict/);
      const { rows } = await query('select id, temp from silver_sensors');
      expect(rows).toEqual([['1', '20']]);
    });
  });

  describe('the catalog', () => {
    beforeAll(async () => {
      await ingest('trips/day.csv', tripsCsv([trip({ trip_id: 'a', fare: 10 }), trip({ trip_id: 'b', fare: -1 })]));
    });

    it('names every table as the Glue Data Catalog does, quarantine included', async () => {
      const tables = await listLakehouseTables(lake.s3.client());

      expect(tables.map((table) => table.name)).toEqual([
        'gold_trips_daily_zone_revenue',
        'quarantine',
        'rejects_trips',
        'silver_people',
        'silver_sensors',
        'silver_trips',
      ]);
    });

    it('reads quarantine records (one JSON object per line) as the quarantine table', async () => {
      const [key] = await lake.list(BUCKETS.silver, '_quarantine/people/');
      expect((await lake.getText(BUCKETS.silver, key as string)).split('\n')).toEqual([expect.any(String), '']);

      const { rows, columns } = await query('select * from quarantine order by key');

      expect(columns).toEqual(['bucket', 'key', 'etag', 'version_id', 'dataset', 'reason', 'error', 'quarantined_at']);
      expect(rows.map((row) => [row[4], row[1], row[5]])).toEqual([
        ['people', 'people/5.csv', 'schema'],
        ['sensors', 'sensors/2.csv', 'schema'],
      ]);
    });

    it('serves a query copied from Athena, lakehouse.<table> and all', async () => {
      const { rows } = await query(
        'select pickup_zone, trips from lakehouse.gold_trips_daily_zone_revenue union all select _rule, 1 from lakehouse.rejects_trips',
      );
      const gold = await query('select * from gold_trips_daily_zone_revenue');

      expect(rows).toEqual([
        ['Downtown', 1],
        ['fare_non_negative', 1],
      ]);
      // The partition column last, as Athena puts a partition key.
      expect(gold.columns.at(-1)).toBe('pickup_date');
    });
  });

  describe('the command', () => {
    async function pnpmQuery(...args: string[]) {
      const child = spawn('pnpm', ['--dir', REPO_ROOT, 'query', '--endpoint', lake.s3.endpoint, ...args], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.stderr.on('data', (chunk) => (err += chunk));
      const [code] = (await once(child, 'exit')) as [number];
      return { code, out, err };
    }

    it('--tables lists every table with its row count, here as JSON', async () => {
      const { code, out } = await pnpmQuery('--tables', '--format', 'json');

      expect(code).toBe(0);
      expect(JSON.parse(out)).toEqual([
        { table: 'gold_trips_daily_zone_revenue', rows: 1 },
        { table: 'quarantine', rows: 2 },
        { table: 'rejects_trips', rows: 1 },
        { table: 'silver_people', rows: 6 },
        { table: 'silver_sensors', rows: 1 },
        { table: 'silver_trips', rows: 1 },
      ]);
    });

    it('names what to run when a query names no table of the lakehouse', async () => {
      const { code, err } = await pnpmQuery('select * from silver_nothing');

      expect(code).toBe(1);
      expect(err).toContain('silver_nothing does not exist');
      expect(err).toContain('pnpm query --tables');
    });

    it('prints CSV, and a table by default', async () => {
      const sql = "select name, age, city from lakehouse.silver_people where name in ('Ada', 'Linus') order by name";
      const csv = await pnpmQuery('--format', 'csv', sql);
      const table = await pnpmQuery(sql);

      expect(csv.out.trim().split('\n')).toEqual(['name,age,city', 'Ada,36,', 'Linus,29,Oslo']);
      expect(table.out.trimEnd().split('\n')).toEqual([
        '  name   age  city',
        '  Ada     36  NULL',
        '  Linus   29  Oslo',
        '(2 rows)',
      ]);
    });
  });
});
