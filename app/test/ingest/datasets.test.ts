import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDatasets } from '../../src/datasets';
import { goldMessage } from '../../src/gold/gold-queue';

describe('datasets', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'transforms-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function folder(name: string, files: Record<string, string>) {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, name, path, '..'), { recursive: true });
      await writeFile(join(dir, name, path), content);
    }
  }

  it('ships trips with its rules and gold table', () => {
    const trips = loadDatasets().get('trips');
    expect(trips?.rules.map((rule) => rule.name)).toEqual([
      'trip_id_present',
      'pickup_at_valid_timestamp',
      'fare_non_negative',
      'distance_km_non_negative',
      'passengers_integer_0_to_9',
      'payment_type_accepted',
    ]);
    expect(trips?.goldTables.map((table) => table.name)).toEqual(['daily_zone_revenue']);
    expect(trips).toMatchObject({ key: 'trip_id', partition: { column: 'pickup_date' } });
  });

  it('adds a dataset by adding a folder', async () => {
    await folder('orders', { 'silver.sql': 'select * from raw_input', 'contract.json': '{"requiredColumns": ["id"]}' });
    const orders = loadDatasets(dir).get('orders');
    expect(orders).toMatchObject({ name: 'orders', requiredColumns: ['id'], rules: [], goldTables: [] });
    expect(orders?.schemaEvolution).toBe('additive');
  });

  it.each([
    ['a folder without silver.sql', 'orders', { 'contract.json': '{}' }, /silver.sql is missing/],
    ['gold without key and partition', 'orders', { 'silver.sql': 'select 1', 'gold/t.sql': 'select 1' }, /need "key"/],
    [
      'a rule without a check',
      'orders',
      { 'silver.sql': 'select 1', 'contract.json': '{"rules":[{"name":"x"}]}' },
      /rule/,
    ],
    ['a name that is not snake_case', 'My Orders', { 'silver.sql': 'select 1' }, /snake_case/],
    [
      'an unknown schemaEvolution',
      'orders',
      { 'silver.sql': 'select 1', 'contract.json': '{"schemaEvolution":"loose"}' },
      /schemaEvolution must be "additive" or "strict"/,
    ],
  ])('rejects %s at load time', async (_what, name, files, error) => {
    await folder(name, files);
    expect(() => loadDatasets(dir)).toThrow(error);
  });
});

describe('gold jobs on SQS FIFO', () => {
  it('groups by dataset and deduplicates by silver object within SQS limits', () => {
    const message = goldMessage('https://sqs/q.fifo', { dataset: 'trips', silverKey: 'trips/é à+%-0123.parquet' });
    expect(message).toMatchObject({ QueueUrl: 'https://sqs/q.fifo', MessageGroupId: 'trips' });
    expect(message.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(message.MessageBody as string)).toEqual({
      dataset: 'trips',
      silverKey: 'trips/é à+%-0123.parquet',
    });
  });
});
