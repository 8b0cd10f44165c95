import { silverKey } from '@lakehouse/contract';
import type { PipelineRecord } from '../ingest/s3-event';
import { inParallel } from '../io/s3-io';
import { findLeftBehind, isWhole, type LeftBehind, type ScanDeps } from './left-behind';
import type { PipelineTarget } from './pipeline-target';
import { creationRecord, type RawFilter, type RawVersion, versionOf } from './raw-objects';

export interface ReconcileOptions extends RawFilter {
  /** Only report. */
  dryRun?: boolean;
  /** How long to wait for the replayed work to land (0: do not wait). */
  waitMs?: number;
  pollMs?: number;
  /** Receives the human-readable lines. */
  say?: (line: string) => void;
}

export interface ReconcileReport {
  found: LeftBehind;
  /** Events handed to the ingestion function, gold jobs queued. */
  replayed: { events: number; goldJobs: number };
  /** What was still left behind when the wait ended (none when it was not waited for). */
  remaining?: LeftBehind;
}

/** Invocations and messages in flight at once. */
const PARALLEL_SENDS = 8;

/**
 * Finds what the pipeline left behind and hands it back to the pipeline's own
 * entry points: each raw object without an outcome to the ingestion function
 * (as the S3 event it once was), each silver file gold has not applied to the
 * gold queue, oldest first. Idempotent: outputs are keyed by raw version, so
 * a second run finds nothing once the first one's work has landed.
 */
export async function reconcile(
  deps: ScanDeps & { target: PipelineTarget },
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const say = options.say ?? (() => {});
  const filter: RawFilter = { dataset: options.dataset, since: options.since };
  const found = await findLeftBehind(deps, filter);
  describe(found, say);
  const replayed = { events: 0, goldJobs: 0 };
  if (options.dryRun || isWhole(found)) {
    if (options.dryRun && !isWhole(found)) say('dry run: nothing replayed');
    return { found, replayed };
  }

  await inParallel([...found.noOutcome, ...found.uploadedAgain], PARALLEL_SENDS, async (raw) => {
    await deps.target.ingest(replayRecord(deps.zones.raw, raw, found));
    replayed.events++;
  });
  // Oldest first, in the dataset's group: files of one second, and states from before upload times, keep the row applied last.
  for (const { job } of found.notInGold) {
    await deps.target.queueGold(job);
    replayed.goldJobs++;
  }
  say(`replayed: ${replayed.events} event(s) to the ingestion function, ${replayed.goldJobs} gold job(s) queued`);
  if (!options.waitMs) return { found, replayed };

  const remaining = await waitForReplay(deps, filter, found, options.waitMs, options.pollMs ?? 500);
  if (isWhole(remaining)) say('done: every replayed object now has its outcome, and gold has every silver file');
  else describe(remaining, say, `still left behind after ${Math.round(options.waitMs / 1000)} s`);
  return { found, replayed, remaining };
}

/**
 * The event that processes a raw version again. Gold may have applied its
 * silver file before the file was lost: then gold already holds its rows, or
 * the rows of later files that replaced them, and the replay only writes
 * silver again. Applying it again would be a commit for nothing, and in a
 * state written before upload times were kept, where the file applied last
 * wins, would put its rows back over those of files applied after it.
 */
function replayRecord(bucket: string, raw: RawVersion, found: LeftBehind): PipelineRecord {
  const record = creationRecord(bucket, raw);
  const inGold = found.appliedCommits.has(silverKey(raw.key, versionOf(raw))) && !found.uploadedAgain.includes(raw);
  return inGold ? { ...record, lakehouse: { alreadyInGold: true } } : record;
}

/**
 * Scans again until the replayed work has landed, or the time is up; returns
 * what is left of it. A replayed event has landed when its object has an
 * outcome and, where the dataset has gold, gold has applied its silver file
 * (a file gold had applied before is not applied again: see `replayRecord`).
 */
async function waitForReplay(
  deps: ScanDeps,
  filter: RawFilter,
  first: LeftBehind,
  waitMs: number,
  pollMs: number,
): Promise<LeftBehind> {
  const replayed = new Set(
    [...first.noOutcome, ...first.uploadedAgain, ...first.notInGold.map(({ raw }) => raw)].map((raw) => raw.key),
  );
  const deadline = performance.now() + waitMs;
  for (;;) {
    const found = await findLeftBehind(deps, filter);
    const left: LeftBehind = {
      ...found,
      noOutcome: found.noOutcome.filter((raw) => replayed.has(raw.key)),
      notInGold: found.notInGold.filter(({ raw }) => replayed.has(raw.key)),
      uploadedAgain: found.uploadedAgain.filter((raw) => replayed.has(raw.key)),
    };
    if (isWhole(left) || performance.now() >= deadline) return left;
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

function describe(found: LeftBehind, say: (line: string) => void, heading?: string): void {
  if (heading) say(`${heading}:`);
  else say(`scanned ${found.scanned} raw object(s)`);
  say(`  ${found.noOutcome.length} with neither a silver output nor a quarantine record`);
  for (const raw of found.noOutcome) {
    const inGold = found.appliedCommits.has(silverKey(raw.key, versionOf(raw)));
    say(
      `    ${raw.key} (${raw.versionId ?? raw.eTag})${inGold ? ': gold applied it before its silver was lost; silver only' : ''}`,
    );
  }
  say(`  ${found.notInGold.length} silver file(s) gold has not applied`);
  for (const { job } of found.notInGold) say(`    ${job.silverKey}`);
  if (found.uploadedAgain.length > 0) {
    say(`  ${found.uploadedAgain.length} uploaded again, unchanged, since gold applied them, and not applied since`);
    for (const raw of found.uploadedAgain)
      say(`    ${raw.key} (${raw.versionId ?? raw.eTag}), ${raw.lastModified.toISOString()}`);
  }
  for (const dataset of found.goldUnchecked) {
    say(`  gold of ${dataset} not checked: its state predates the ledger of applied files (pnpm backfill rebuilds it)`);
  }
}
