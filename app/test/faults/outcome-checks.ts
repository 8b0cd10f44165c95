import { readdirSync } from 'node:fs';
import { sourceId } from '@lakehouse/contract';
import type { S3EventRecord } from 'aws-lambda';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { BUCKETS, type TestLakehouse } from '../support/lakehouse';

/**
 * What every fault case must leave behind, whatever the fault: the raw
 * object as it was uploaded, nothing left in the work folder, and in silver
 * exactly the objects the outcome names for this object version (none when
 * the invocation failed): never a partial or stray output.
 */
export async function expectCleanOutcome(
  lake: TestLakehouse,
  record: S3EventRecord,
  uploaded: Buffer,
  outcome: IngestOutcome | undefined,
  workDir = lake.cfg.workDir,
): Promise<void> {
  const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
  expect((await lake.getBytes(BUCKETS.raw, key)).equals(uploaded)).toBe(true);
  expect(readdirSync(workDir).filter((entry) => entry.startsWith('ingest-'))).toEqual([]);
  const named =
    outcome?.status === 'ingested'
      ? [outcome.silverKey, ...(outcome.rejectsKey ? [outcome.rejectsKey] : [])]
      : outcome?.status === 'quarantined'
        ? [outcome.quarantineKey]
        : [];
  expect(await outputsOf(lake, key, record.s3.object.eTag)).toEqual(named.sort());
}

/** Every silver object (data, rejects, quarantine) derived from one raw object version. */
export async function outputsOf(lake: TestLakehouse, key: string, eTag: string): Promise<string[]> {
  const id = `-${sourceId(key, eTag)}.`;
  return (await lake.list(BUCKETS.silver)).filter((output) => output.includes(id)).sort();
}

/** Gold objects of a dataset, with their ETags: to show that a failed invocation changed none. */
export async function goldSnapshot(lake: TestLakehouse, dataset: string): Promise<Record<string, string>> {
  const keys = await lake.list(BUCKETS.gold);
  const snapshot: Record<string, string> = {};
  for (const key of keys.filter((k) => k.startsWith(`${dataset}/`) || k.startsWith(`_state/${dataset}/`))) {
    snapshot[key] = (await lake.getBytes(BUCKETS.gold, key)).toString('base64');
  }
  return snapshot;
}

/** An outcome without its step times, which differ from run to run: to compare two runs' outcomes. */
export function untimed<T extends object>({ stepsMs: _, ...outcome }: T & { stepsMs?: unknown }): Omit<T, 'stepsMs'> {
  return outcome;
}
