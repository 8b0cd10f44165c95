import type { S3Client } from '@aws-sdk/client-s3';
import { datasetOf, QUARANTINE_PREFIX, quarantineKey, silverKey, uploadSecond } from '@lakehouse/contract';
import type { Config } from '../config';
import type { Dataset } from '../datasets';
import { SourceGoneError } from '../errors';
import { type AppliedFile, readAppliedLedger } from '../gold/applied-ledger';
import type { GoldJob } from '../gold/apply-to-gold';
import { loadManifest } from '../gold/gold-state';
import { listKeys } from '../io/s3-io';
import { listRawObjects, type RawFilter, type RawVersion, versionOf } from './raw-objects';

export interface Zones {
  raw: string;
  silver: string;
  gold: string;
}

/** What reconcile finds: raw objects and silver files the pipeline has not finished with. */
export interface LeftBehind {
  /** Current raw objects looked at. */
  scanned: number;
  /** Current raw versions with neither a silver output nor a quarantine record. */
  noOutcome: RawVersion[];
  /** Silver outputs of current raw versions that their dataset's gold state has not applied, oldest first. */
  notInGold: Array<{ raw: RawVersion; job: GoldJob }>;
  /** Datasets whose gold state was begun before it recorded the files it applied: gold not checked. */
  goldUnchecked: string[];
  /** In datasets with gold, for current raw versions: the last commit that applied their silver file, lost since or not. */
  appliedCommits: Map<string, number>;
  /**
   * Current raw versions uploaded again, the same bytes (the same version id
   * or ETag, so the same outputs), after gold applied them, and whose latest
   * upload gold has not applied: an event or a gold job lost. Processed again,
   * the file takes its place in gold as uploaded last.
   */
  uploadedAgain: RawVersion[];
}

export interface ScanDeps {
  s3: S3Client;
  zones: Zones;
  /** The datasets with gold tables are the ones whose gold is checked. */
  datasets: ReadonlyMap<string, Dataset>;
  /** Where DuckDB reads the gold state's ledger. */
  cfg: Pick<Config, 'workDir' | 'duckdb'>;
}

/**
 * Compares the zones: every current raw version should have a silver output
 * or a quarantine record (outputs are keyed by raw key and version), and
 * every silver output of a dataset with gold should be in its gold state's
 * ledger. Only current versions count: an older version's silver file was
 * superseded, and folding it into gold now would undo the newer one.
 */
export async function findLeftBehind(deps: ScanDeps, filter: RawFilter = {}): Promise<LeftBehind> {
  const { s3, zones } = deps;
  const raws = await listRawObjects(s3, zones.raw, filter);
  const datasets = [...new Set(raws.map((raw) => datasetOf(raw.key)))].sort();
  const silver = new Set<string>();
  for (const dataset of datasets) {
    for (const prefix of [`${dataset}/`, `${QUARANTINE_PREFIX}/${dataset}/`]) {
      for (const key of await listKeys(s3, zones.silver, prefix)) silver.add(key);
    }
  }

  const noOutcome: RawVersion[] = [];
  const silverOutputs = new Set<string>();
  const byDataset = new Map<string, Array<{ raw: RawVersion; job: GoldJob }>>();
  for (const raw of raws) {
    const dataset = datasetOf(raw.key);
    const output = silverKey(raw.key, versionOf(raw));
    byDataset.set(dataset, [...(byDataset.get(dataset) ?? []), { raw, job: { dataset, silverKey: output } }]);
    if (silver.has(output)) silverOutputs.add(output);
    else if (!silver.has(quarantineKey(raw.key, versionOf(raw)))) noOutcome.push(raw);
  }

  const notInGold: LeftBehind['notInGold'] = [];
  const goldUnchecked: string[] = [];
  const appliedCommits = new Map<string, number>();
  const uploadedAgain: RawVersion[] = [];
  for (const [dataset, outputs] of byDataset) {
    if (!deps.datasets.get(dataset)?.goldTables.length) continue;
    const ledger = await currentLedger(deps, dataset);
    if (!ledger) {
      goldUnchecked.push(dataset);
      continue;
    }
    for (const output of outputs) {
      const applied = ledger.get(output.job.silverKey);
      if (applied === undefined) {
        if (silverOutputs.has(output.job.silverKey)) notInGold.push(output);
        continue;
      }
      appliedCommits.set(output.job.silverKey, applied.commit);
      if (
        silverOutputs.has(output.job.silverKey) &&
        applied.uploadedAt !== undefined &&
        applied.uploadedAt < uploadSecond(output.raw.lastModified)
      ) {
        uploadedAgain.push(output.raw);
      }
    }
  }
  return { scanned: raws.length, noOutcome, notInGold, goldUnchecked, appliedCommits, uploadedAgain };
}

/**
 * The ledger of the dataset's live gold state, or undefined when the state
 * predates it. Gold may commit meanwhile and merge away a run the manifest
 * named: then the newer manifest is read.
 */
async function currentLedger(deps: ScanDeps, dataset: string): Promise<Map<string, AppliedFile> | undefined> {
  for (let attempt = 1; ; attempt++) {
    const manifest = await loadManifest(deps.s3, deps.zones.gold, dataset);
    if (!manifest.applied.complete) return undefined;
    try {
      return await readAppliedLedger(deps.s3, { ...deps.cfg, goldBucket: deps.zones.gold }, manifest);
    } catch (error) {
      if (!(error instanceof SourceGoneError) || attempt >= LEDGER_ATTEMPTS) throw error;
    }
  }
}

const LEDGER_ATTEMPTS = 5;

/** True when nothing is left behind. */
export const isWhole = (found: LeftBehind) =>
  found.noOutcome.length === 0 && found.notInGold.length === 0 && found.uploadedAgain.length === 0;
