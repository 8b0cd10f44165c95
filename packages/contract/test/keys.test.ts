import {
  datasetOf,
  goldManifestKey,
  goldPartitionKey,
  goldStateObjectKey,
  quarantineKey,
  rejectsKey,
  silverKey,
  sourceId,
} from '../src';

describe('key layout', () => {
  describe('datasetOf', () => {
    it.each([
      ['trips/2026/01/a.csv', 'trips'],
      ['trips/a.csv', 'trips'],
      ['a.csv', 'default'],
      ['/leading-slash.csv', 'default'],
      // Named like the pipeline's own prefixes: never a dataset, so never mixed into them.
      ['_rejects/trips/a.csv', 'default'],
      ['_quarantine/a.json', 'default'],
      ['_state/trips/manifest.json', 'default'],
    ])('%s -> %s', (key, dataset) => {
      expect(datasetOf(key)).toBe(dataset);
    });
  });

  describe('silverKey', () => {
    it('is a deterministic function of the key and its etag or version', () => {
      expect(silverKey('trips/2026/a b.csv.gz', 'etag1')).toBe(silverKey('trips/2026/a b.csv.gz', 'etag1'));
      expect(silverKey('trips/2026/a b.csv.gz', 'etag1')).toMatch(/^trips\/a_b-[0-9a-f]{24}\.parquet$/);
    });

    it('differs for another version of the object, or the same name in another folder', () => {
      const keys = new Set([
        silverKey('trips/a.csv', 'v1'),
        silverKey('trips/a.csv', 'v2'),
        silverKey('trips/other/a.csv', 'v1'),
      ]);
      expect(keys.size).toBe(3);
    });

    it("stays far under S3's 1,024-byte key limit for the longest raw key", () => {
      const longest = `${'é'.repeat(400)}/${'x'.repeat(200)}.csv`;
      expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(1024);
      for (const key of [silverKey(longest, 'e'), rejectsKey(longest, 'e'), quarantineKey(longest, 'e')]) {
        expect(Buffer.byteLength(key)).toBeLessThan(400);
      }
      expect(silverKey(longest, 'e')).not.toBe(silverKey(`${'é'.repeat(399)}ê/${'x'.repeat(200)}.csv`, 'e'));
    });

    it('does not let a crafted name collide with another key and version', () => {
      expect(sourceId('a', 'bc')).not.toBe(sourceId('ab', 'c'));
    });
  });

  it('files rejects and quarantine records under their own prefixes of silver', () => {
    expect(rejectsKey('trips/a.csv', 'e')).toBe(`_rejects/${silverKey('trips/a.csv', 'e')}`);
    expect(quarantineKey('trips/a.csv', 'e')).toMatch(/^_quarantine\/trips\/a-[0-9a-f]{24}\.json$/);
  });

  it('lays gold out as Hive partitions readable by any engine', () => {
    expect(goldPartitionKey('trips', 'daily_zone_revenue', 'pickup_date', '2026-01-15')).toBe(
      'trips/daily_zone_revenue/pickup_date=2026-01-15/data.parquet',
    );
    expect(goldPartitionKey('d', 't', 'zone', 'a/b c')).toBe('d/t/zone=a%2Fb%20c/data.parquet');
  });

  it("keeps gold's incremental state beside the tables, under _state/", () => {
    expect(goldManifestKey('trips')).toBe('_state/trips/manifest.json');
    expect(goldStateObjectKey('trips', 'segments', '7')).toBe('_state/trips/segments/7.parquet');
    expect(goldStateObjectKey('trips', 'index', '12')).toBe('_state/trips/index/12.parquet');
  });
});
