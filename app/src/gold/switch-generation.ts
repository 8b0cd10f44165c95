import { goldManifestKey, goldPendingTablesKey } from '@lakehouse/contract';
import type { Dataset } from '../datasets';
import { copyObject, deleteObject, inParallel, listKeys, PARQUET_TYPE } from '../io/s3-io';
import { readAppliedLedger } from './applied-ledger';
import { applyToGold, type GoldDeps, type GoldResult } from './apply-to-gold';
import { deleteStateObjects, type GoldManifest, loadManifest, saveManifest, stateObjectsOf } from './gold-state';

/**
 * Makes a dataset's gold the generation a backfill built. It runs as a gold
 * job, in the dataset's queue, so no other gold update of the dataset runs
 * meanwhile.
 */
export interface GenerationSwitch {
  dataset: string;
  switchTo: {
    /** Where the backfill built the new state and tables (see generationName). */
    generation: string;
    /** The live state's version when the backfill began: later commits are caught up on. */
    since: number;
  };
}

const PARALLEL_TRANSFERS = 8;

/**
 * A backfill builds a dataset's gold as if it were a dataset of this name:
 * state under `_state/_generations/<dataset>/<stamp>/`, tables under
 * `_generations/<dataset>/<stamp>/`, out of the live tables' way.
 */
export function generationName(dataset: string, stamp: string): string {
  return `_generations/${dataset}/${stamp}`;
}

/**
 * 1. catch up: the silver files the live state applied since the backfill
 *    began are applied to it, in commit order;
 * 2. every partition object of the generation replaces the live one (one
 *    copy each: a reader sees the old or the new partition, never both or
 *    none), then live partitions the generation has not are deleted;
 * 3. the live manifest becomes the generation's (numbered past the live one,
 *    so later commits never reuse an old object's key): the commit point;
 * 4. the old state objects, the generation's table copies and its manifest go.
 * A retry after step 3 finds the live manifest naming the generation and only cleans up.
 */
export async function switchGeneration(job: GenerationSwitch, dataset: Dataset, deps: GoldDeps): Promise<GoldResult> {
  const { s3, cfg } = deps;
  const bucket = cfg.goldBucket;
  const { generation, since } = job.switchTo;
  const built: Dataset = { ...dataset, name: generation };
  const live = await loadManifest(s3, bucket, dataset.name);
  if (live.generation === generation) {
    await deleteStateObjects(deps, live.garbage ?? []);
    await removeGenerationLeftovers(deps, generation);
    return { partitions: [], keys: 0, version: live.version };
  }
  // A generation without state is a build in which no file had rows: gold becomes empty.
  const before = await loadManifest(s3, bucket, generation);

  // Every file live gold applied since, in its order, even those the generation holds: then each key
  // any of them holds ends as live gold has it. Skipping the generation's own would let the generation
  // decide keys that live decided otherwise: a file uploaded again unchanged (newer now), files of one
  // second (applied last wins there), states from before upload times were kept. A retry applies the
  // same files again, in the same order, to the same end.
  const catchUp = [...(await readAppliedLedger(s3, cfg, live))]
    .filter(([, applied]) => applied.commit > since)
    .sort((a, b) => a[1].commit - b[1].commit);
  for (const [silverKey] of catchUp) await applyToGold({ dataset: generation, silverKey }, built, deps);
  const next = catchUp.length > 0 ? await loadManifest(s3, bucket, generation) : before;

  const fresh = await listKeys(s3, bucket, `${generation}/`);
  const replaced = new Set(fresh.map((key) => `${dataset.name}/${key.slice(generation.length + 1)}`));
  await inParallel(fresh, PARALLEL_TRANSFERS, async (key) => {
    const to = `${dataset.name}/${key.slice(generation.length + 1)}`;
    await copyObject(s3, { bucket, key }, { bucket, key: to }, PARQUET_TYPE);
  });
  const stale: string[] = [];
  for (const table of dataset.goldTables) {
    for (const key of await listKeys(s3, bucket, `${dataset.name}/${table.name}/`)) {
      if (!replaced.has(key)) stale.push(key);
    }
  }
  await inParallel(stale, PARALLEL_TRANSFERS, (key) => deleteObject(s3, bucket, key));

  // What the live state's last commit let go of goes now: the switched manifest lists only the old state.
  await deleteStateObjects(deps, live.garbage ?? []);
  const kept = new Set(stateObjectsOf(next).map((object) => object.key));
  const garbage = [
    ...(next.garbage ?? []),
    ...stateObjectsOf(live)
      .map((object) => object.key)
      .filter((key) => !kept.has(key)),
  ];
  const switched: GoldManifest = {
    ...next,
    dataset: dataset.name,
    version: Math.max(live.version, next.version),
    generation,
    garbage,
  };
  await saveManifest(s3, bucket, switched);
  // Unreferenced now; if this is cut short, the retried switch or the next commit deletes them.
  await Promise.allSettled(garbage.map((key) => deleteObject(s3, bucket, key)));
  await removeGenerationLeftovers(deps, generation);
  const partitions = [...replaced].map((key) => key.split('/').at(-2) ?? key);
  return { partitions: [...new Set(partitions)].sort(), keys: 0, version: switched.version };
}

/** The generation's table copies, manifest and pending-tables mark; its state objects now belong to the live manifest. */
async function removeGenerationLeftovers({ s3, cfg }: GoldDeps, generation: string): Promise<void> {
  const keys = [
    ...(await listKeys(s3, cfg.goldBucket, `${generation}/`)),
    goldManifestKey(generation),
    goldPendingTablesKey(generation),
  ];
  await inParallel(keys, PARALLEL_TRANSFERS, (key) => deleteObject(s3, cfg.goldBucket, key));
}
