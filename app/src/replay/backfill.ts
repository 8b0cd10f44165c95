import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  QUARANTINE_PREFIX,
  quarantineKey,
  REJECTS_PREFIX,
  rejectsKey,
  schemaKey,
  silverKey,
  uploadSecond,
} from '@lakehouse/contract';
import type { Config } from '../config';
import type { Dataset } from '../datasets';
import { type AppliedFile, readAppliedLedger } from '../gold/applied-ledger';
import { applyToGold, type GoldJob } from '../gold/apply-to-gold';
import type { GoldQueue } from '../gold/gold-queue';
import { loadManifest } from '../gold/gold-state';
import { generationName } from '../gold/switch-generation';
import { type IngestOutcome, ingestObject } from '../ingest/ingest-object';
import { ObjectCache } from '../io/object-cache';
import { deleteObject, inParallel, listKeys } from '../io/s3-io';
import type { Zones } from './left-behind';
import type { PipelineTarget } from './pipeline-target';
import { listRawObjects, type RawVersion, versionOf } from './raw-objects';

export interface BackfillDeps {
  s3: S3Client;
  zones: Zones;
  /** Runs the function's code here: DuckDB, temp storage, the object size limit, the gold state cache. */
  cfg: Pick<Config, 'maxObjectBytes' | 'workDir' | 'duckdb' | 'goldCacheBytes'>;
  /** Where the switch goes: the gold queue, in the dataset's group. */
  target: PipelineTarget;
  /**
   * Files above `chunkBytes` are processed in chunks here, as the local
   * lakehouse runs them (a file too large for one invocation was ingested in
   * chunks; read whole, it would be quarantined and lose its silver).
   */
  chunks?: { chunkBytes: number; concurrency: number };
}

export interface BackfillOptions {
  /** Raw objects processed at once. Default 2. */
  concurrency?: number;
  /** How long to wait for the gold step to switch to the new generation (0: do not wait). */
  waitMs?: number;
  pollMs?: number;
  say?: (line: string) => void;
  /** Names the generation; default the start time. */
  stamp?: string;
}

export interface BackfillReport {
  objects: number;
  ingested: number;
  /** Of the ingested, those processed in chunks. */
  inChunks: number;
  quarantined: number;
  skipped: number;
  silverRows: number;
  rejectedRows: number;
  /** Outputs of the same raw versions the new transform no longer writes (a quarantine record, rejects, silver). */
  removedOutputs: string[];
  /** The generation gold was rebuilt in; none for a dataset without gold tables. */
  generation?: string;
  /** Whether the gold step had switched to it when the wait ended. */
  switched: boolean;
}

/** Attempts per raw object: a transient fault is retried, as Lambda would. */
const ATTEMPTS = 3;
/** Waits before a failed chunk's retries, as the local lakehouse waits. */
const CHUNK_RETRY_DELAYS_MS = [1000, 2000];

/**
 * Rebuilds a dataset from raw after a change to its SQL or rules:
 *
 * 1. every current raw object of the dataset is processed again, once, with
 *    the function's own code and the current transforms: its silver, rejects
 *    or quarantine record are rewritten in place (same keys), and outputs it
 *    no longer has are removed;
 * 2. gold is built from those silver files, oldest raw object first, as a new
 *    generation beside the live one (readers of the live tables see nothing of it);
 * 3. a switch job goes to the gold queue, in the dataset's group, so it runs
 *    between two gold updates: it catches up on the files gold applied since
 *    step 1 began, replaces each live partition in one write and makes the
 *    generation's state the live one (see switchGeneration).
 */
export async function backfill(
  dataset: Dataset,
  deps: BackfillDeps,
  options: BackfillOptions = {},
): Promise<BackfillReport> {
  const { s3, zones } = deps;
  const say = options.say ?? (() => {});
  const hasGold = dataset.goldTables.length > 0;
  const live = hasGold ? await loadManifest(s3, zones.gold, dataset.name) : undefined;
  const since = live?.version ?? 0;
  const applied = live ? await readAppliedLedger(s3, { ...deps.cfg, goldBucket: zones.gold }, live) : new Map();
  const raws = await listRawObjects(s3, zones.raw, { dataset: dataset.name });
  say(`backfill of ${dataset.name}: ${raws.length} raw object(s)${hasGold ? `, gold state at commit ${since}` : ''}`);

  const { report, jobs } = await rebuildSilver(dataset, raws, applied, deps, options.concurrency ?? 2);
  const chunked = report.inChunks > 0 ? `, ${report.inChunks} in chunks` : '';
  say(
    `silver: ${report.ingested} ingested (${report.silverRows} rows, ${report.rejectedRows} rejected${chunked}), ` +
      `${report.quarantined} quarantined, ${report.skipped} skipped; ${report.removedOutputs.length} stale output(s) removed`,
  );
  if (!hasGold) return report;

  const stamp = options.stamp ?? new Date().toISOString().replace(/[-:.]/g, '');
  report.generation = generationName(dataset.name, stamp);
  await buildGeneration(dataset, report.generation, jobs, deps);
  say(`gold: ${jobs.length} file(s) applied to the new generation ${report.generation}`);

  await deps.target.queueGold({ dataset: dataset.name, switchTo: { generation: report.generation, since } });
  say('switch queued in the gold queue (it runs between two gold updates of the dataset)');
  if (!options.waitMs) return report;
  report.switched = await switched(deps, dataset.name, report.generation, options.waitMs, options.pollMs ?? 500);
  say(
    report.switched
      ? `done: gold of ${dataset.name} is the new generation`
      : `not switched after ${Math.round(options.waitMs / 1000)} s: the gold queue may be busy, or the switch failed ` +
          "(see the gold function's log; pnpm redrive moves a dead-lettered switch back)",
  );
  return report;
}

/**
 * Step 1: every raw object through the function's own ingestion, with its
 * gold jobs kept (in raw order) instead of queued, and the outputs its new
 * outcome no longer writes removed.
 */
async function rebuildSilver(
  dataset: Dataset,
  raws: readonly RawVersion[],
  applied: ReadonlyMap<string, AppliedFile>,
  { s3, zones, cfg, chunks }: BackfillDeps,
  concurrency: number,
): Promise<{ report: BackfillReport; jobs: GoldJob[] }> {
  const existing = new Set<string>();
  for (const prefix of [
    `${dataset.name}/`,
    `${REJECTS_PREFIX}/${dataset.name}/`,
    `${QUARANTINE_PREFIX}/${dataset.name}/`,
  ]) {
    for (const key of await listKeys(s3, zones.silver, prefix)) existing.add(key);
  }
  const report: BackfillReport = {
    objects: raws.length,
    ingested: 0,
    inChunks: 0,
    quarantined: 0,
    skipped: 0,
    silverRows: 0,
    rejectedRows: 0,
    removedOutputs: [],
    switched: false,
  };
  const submitted = new Map<string, GoldJob>();
  const keep: GoldQueue = {
    async submit(job) {
      if ('silverKey' in job) submitted.set(job.silverKey, job);
    },
  };
  const ingestDeps = {
    s3,
    cfg: { ...cfg, silverBucket: zones.silver },
    datasets: new Map([[dataset.name, dataset]]),
    gold: keep,
    ...(chunks ? { chunks: { ...chunks, retryDelaysMs: CHUNK_RETRY_DELAYS_MS } } : {}),
  };
  const jobOf = new Map<RawVersion, GoldJob>();
  // The transform changed: the dataset's schema starts again from the rebuilt files, so a type only the
  // old SQL wrote does not hold them back (a live file arriving meanwhile is written by the new SQL too).
  await deleteObject(s3, zones.silver, schemaKey(dataset.name));
  await inParallel(raws, concurrency, async (raw) => {
    const object = {
      bucket: zones.raw,
      key: raw.key,
      eTag: raw.eTag,
      size: raw.size,
      ...(raw.versionId ? { versionId: raw.versionId } : {}),
    };
    const outcome = await withRetries(() => ingestObject(object, ingestDeps));
    count(report, outcome);
    const job = outcome.status === 'ingested' ? submitted.get(outcome.silverKey) : undefined;
    if (job) jobOf.set(raw, job);
    const stale = staleOutputs(raw, outcome).filter((key) => existing.has(key));
    await inParallel(stale, 4, (key) => deleteObject(s3, zones.silver, key));
    report.removedOutputs.push(...stale);
  });
  // Oldest raw object first, as they arrived: for a key in several files, the last one wins. S3 dates
  // objects to the second: the files of one second go in the order live gold applied them, then by key.
  const second = (raw: RawVersion) => uploadSecond(raw.lastModified);
  const commit = (raw: RawVersion) => applied.get(jobOf.get(raw)?.silverKey ?? '')?.commit ?? Number.POSITIVE_INFINITY;
  const ordered = [...raws].sort(
    (a, b) => second(a) - second(b) || Math.sign(commit(a) - commit(b)) || a.key.localeCompare(b.key),
  );
  const jobs = ordered.flatMap((raw) => jobOf.get(raw) ?? []);
  return { report, jobs };
}

/** Step 2: the silver files folded, in order, into a gold state and tables of the generation's own. */
async function buildGeneration(
  dataset: Dataset,
  generation: string,
  jobs: readonly GoldJob[],
  { s3, zones, cfg }: BackfillDeps,
): Promise<void> {
  const built: Dataset = { ...dataset, name: generation };
  const goldCfg = { ...cfg, silverBucket: zones.silver, goldBucket: zones.gold };
  const cacheDir = join(cfg.workDir, `backfill-cache-${randomUUID().slice(0, 8)}`);
  const cache = new ObjectCache(cacheDir, cfg.goldCacheBytes);
  try {
    for (const job of jobs) {
      await withRetries(() =>
        applyToGold({ dataset: generation, silverKey: job.silverKey }, built, { s3, cfg: goldCfg, cache }),
      );
    }
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** Step 3's end: whether the live manifest names the generation within `waitMs`. */
async function switched(
  { s3, zones }: BackfillDeps,
  dataset: string,
  generation: string,
  waitMs: number,
  pollMs: number,
): Promise<boolean> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    if ((await loadManifest(s3, zones.gold, dataset)).generation === generation) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

function count(report: BackfillReport, outcome: IngestOutcome): void {
  if (outcome.status === 'ingested') {
    report.ingested++;
    if (outcome.chunks) report.inChunks++;
    report.silverRows += outcome.silverRows;
    report.rejectedRows += outcome.rejectedRows;
  } else if (outcome.status === 'quarantined') {
    report.quarantined++;
  } else {
    report.skipped++;
  }
}

/** The outputs this raw version may have had that its new outcome does not write. */
function staleOutputs(raw: RawVersion, outcome: IngestOutcome): string[] {
  if (outcome.status === 'skipped' || outcome.status === 'planned') return [];
  const version = versionOf(raw);
  const possible = [silverKey(raw.key, version), rejectsKey(raw.key, version), quarantineKey(raw.key, version)];
  const written = outcome.status === 'ingested' ? [outcome.silverKey, outcome.rejectsKey] : [outcome.quarantineKey];
  return possible.filter((key) => !written.includes(key));
}

async function withRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      await new Promise((done) => setTimeout(done, 1000 * attempt));
    }
  }
}
