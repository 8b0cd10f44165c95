import { QUARANTINE_PREFIX, REJECTS_PREFIX } from '@lakehouse/contract';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { PEOPLE_CSV } from '../support/fixtures';
import { BUCKETS, eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { expectCleanOutcome } from './outcome-checks';

/** Every printable ASCII character (space to tilde). */
const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
/** A key of exactly `bytes` UTF-8 bytes, in folders of multi-byte names (a file system holds 255 bytes a name). */
function keyOfBytes(bytes: number): string {
  const folder = `/${'é'.repeat(50)}${'日'.repeat(33)}`;
  const tail = '/end.csv';
  let key = 'people';
  while (Buffer.byteLength(key + folder) + 2 + tail.length <= bytes) key += folder;
  return `${key}/${'x'.repeat(bytes - Buffer.byteLength(key) - 1 - tail.length)}${tail}`;
}

const KEYS: Array<[string, string]> = [
  ['every printable ASCII character', `people/${PRINTABLE.replace('/', '')}/${PRINTABLE}.csv`],
  ['multi-byte UTF-8 (accents, CJK, emoji)', 'people/été/日本語/😀 data.csv'],
  ['1,024 bytes, multi-byte', keyOfBytes(1024)],
  ['a first folder of 240 bytes (a long dataset name)', `${'d'.repeat(240)}/a.csv`],
  // These four make the same readable stem: the key's hash tells them apart.
  ['a space in the name', 'people/same/a b.csv'],
  ['an underscore in the name', 'people/same/a_b.csv'],
  ['a question mark in the name', 'people/same/a?b.csv'],
  ['a plus in the name', 'people/same/a+b.csv'],
];

describe('keys: any raw key round-trips into lineage and output keys, without collision', () => {
  let lake: TestLakehouse;
  const silverKeys = new Set<string>();
  beforeAll(async () => {
    lake = await startTestLakehouse(new Map());
  });
  afterAll(() => lake.close());

  it.each(KEYS)('%s', async (_name, key) => {
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    const uploaded = Buffer.from(PEOPLE_CSV);
    const record = await lake.upload(key, uploaded);

    const [outcome] = (await handleS3Event(eventOf(record), lake.rt)) as IngestOutcome[];

    expect(outcome).toMatchObject({ status: 'ingested', silverRows: 3 });
    await expectCleanOutcome(lake, record, uploaded, outcome);
    const { silverKey } = outcome as Extract<IngestOutcome, { status: 'ingested' }>;
    expect(Buffer.byteLength(silverKey)).toBeLessThanOrEqual(1024);
    expect(silverKeys.has(silverKey)).toBe(false);
    silverKeys.add(silverKey);
    const lineage = await lake.readParquet(BUCKETS.silver, silverKey, 'select distinct _source_key from t');
    expect(lineage).toEqual([{ _source_key: key }]);
  });

  it.each([
    [`${REJECTS_PREFIX}/people/a.csv`, PEOPLE_CSV, 'ingested'],
    [`${QUARANTINE_PREFIX}/people/a.csv`, PEOPLE_CSV, 'ingested'],
    [`${QUARANTINE_PREFIX}/people/b.csv`, '', 'quarantined'],
  ])('a raw folder named like an internal prefix (%s) never mixes into it', async (key, body, status) => {
    const uploaded = Buffer.from(body);
    const record = await lake.upload(key, uploaded);

    const [outcome] = (await handleS3Event(eventOf(record), lake.rt)) as IngestOutcome[];

    expect(outcome).toMatchObject({ status, dataset: 'default' });
    await expectCleanOutcome(lake, record, uploaded, outcome);
    const named =
      outcome?.status === 'ingested' ? outcome.silverKey : (outcome as { quarantineKey: string }).quarantineKey;
    expect(named).toMatch(status === 'ingested' ? /^default\// : /^_quarantine\/default\//);
    expect(await lake.list(BUCKETS.silver, `${REJECTS_PREFIX}/people/`)).toEqual([]);
    expect(await lake.list(BUCKETS.silver, `${QUARANTINE_PREFIX}/people/`)).toEqual([]);
  });
});
