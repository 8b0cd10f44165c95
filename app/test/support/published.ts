import { chunkPartKey } from '@lakehouse/contract';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { BUCKETS, type TestLakehouse } from './lakehouse';

/** Everything a reader sees of a file: its silver and rejects rows (the ingestion time aside), and gold. */
export async function publishedFile(lake: TestLakehouse, outcome: IngestOutcome) {
  if (outcome.status !== 'ingested') throw new Error(`not ingested: ${JSON.stringify(outcome)}`);
  const rows = (key: string, order: string) =>
    lake.readParquet(BUCKETS.silver, key, `select * exclude (_ingested_at) from t order by ${order}`);
  const goldKeys = await lake.list(BUCKETS.gold);
  const gold = await Promise.all(
    goldKeys
      .filter((key) => !key.startsWith('_state/'))
      .map(async (key) => [key, await lake.readParquet(BUCKETS.gold, key)]),
  );
  return {
    silver: await rows(outcome.silverKey, '_source_row'),
    rejects: outcome.rejectsKey ? await rows(outcome.rejectsKey, '_source_row nulls last, _source_line') : [],
    gold,
    counts: { silverRows: outcome.silverRows, rejectedRows: outcome.rejectedRows },
  };
}

/** A fault-proxy rule: every PUT of chunk `index`'s staged part of the file answers 500 (`times` times, by default always). */
export function failingStagedPart(key: string, eTag: string, index: number) {
  return {
    method: 'PUT' as const,
    bucket: BUCKETS.silver,
    key: chunkPartKey(key, eTag, index, 'staged'),
    fault: { status: 500, code: 'InternalError' },
  };
}
