import { CHUNK_FAILURE_STEM, chunkPartsPrefix } from '@lakehouse/contract';
import { PoisonFileError } from '../../errors';
import type { IngestOutcome } from '../../ingest/ingest-object';
import { quarantine } from '../../ingest/quarantine';
import { getJsonIfExists, listKeys } from '../../io/s3-io';
import { removeParts } from './commit';
import { type ChunkContext, type ChunkFailure, chunkPlace, type StepDeps } from './context';
import type { NotSplit } from './plan';

/**
 * The fail step, after a chunk failed for good: the file quarantined as a
 * whole, naming the first chunk that failed and why (its poison reason, or
 * `chunk-failed` for a fault that outlasted the retries), and no part left.
 * A chunk that was not whole records comes back as `NotSplit` (the file is
 * read whole); an object gone since the plan is skipped. No failure
 * recorded means the map failed for another reason: the step fails, and the
 * execution with it, for an operator to redrive.
 */
export async function failFile(context: ChunkContext, deps: StepDeps): Promise<IngestOutcome | NotSplit> {
  const { s3, cfg } = deps;
  const prefix = chunkPartsPrefix(context.raw.key, context.version);
  const recorded = (await listKeys(s3, cfg.silverBucket, prefix)).filter((key) =>
    key.slice(prefix.length).startsWith(CHUNK_FAILURE_STEM),
  );
  // Keys sort by their zero-padded index: the first is the lowest chunk that failed.
  const failure = recorded[0] ? await getJsonIfExists<ChunkFailure>(s3, cfg.silverBucket, recorded[0]) : undefined;
  if (!failure) {
    throw new Error(`no chunk of ${context.raw.key} recorded a failure: the map failed before or beside its chunks`);
  }
  const outcome = await outcomeOf(context, failure, deps);
  await removeParts(context, deps);
  return outcome;
}

async function outcomeOf(context: ChunkContext, failure: ChunkFailure, deps: StepDeps) {
  if (failure.kind === 'not-splittable') return { notSplit: failure.message };
  if (failure.kind === 'source-gone') return { status: 'skipped' as const, reason: failure.message };
  const where = chunkPlace(failure, context.chunks);
  const poison =
    failure.kind === 'poison' && failure.reason
      ? new PoisonFileError(failure.reason, `${where}: ${failure.message}`)
      : new PoisonFileError(
          'chunk-failed',
          `${where} failed after ${failure.attempts ? `${failure.attempts} attempts` : 'its retries'}: ${failure.message}; no part of the file was published`,
        );
  const now = deps.now ?? (() => new Date());
  const quarantined = await quarantine(context.raw, context.dataset, context.version, poison, deps, now);
  return { ...quarantined, chunks: context.chunks };
}
