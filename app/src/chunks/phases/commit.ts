import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chunkManifestKey, chunkPartsPrefix } from '@lakehouse/contract';
import type { Dataset } from '../../datasets';
import { PoisonFileError } from '../../errors';
import { type IngestOutcome, queueGoldJob, uploadOutputs } from '../../ingest/ingest-object';
import { quarantine } from '../../ingest/quarantine';
import type { Lineage } from '../../ingest/transform';
import { withConnection } from '../../io/duckdb';
import { deleteObject, getJsonIfExists, inParallel, listKeys } from '../../io/s3-io';
import { freeBytes, invocationFolder, isOutOfSpace, mb } from '../../io/work-dir';
import { conformToSchema } from '../../schema/conform-silver';
import { assembleParts, downloadParts } from '../commit-chunks';
import type { ChunkPart } from '../process-chunk';
import { type ChunkContext, datasetOfContext, lineageOf, type StepDeps } from './context';

/**
 * The commit step, after every chunk: the parts (as their manifests list
 * them, in chunk order) assembled into the file's one silver object and one
 * rejects object, published as the single-invocation path publishes them,
 * one gold job, the parts removed. A file that is poison as a whole (no row
 * read, or parts that fill the disk) is quarantined. A fault keeps the
 * parts, so that a retry of the step finds them.
 */
export async function commitFile(context: ChunkContext, deps: StepDeps): Promise<IngestOutcome> {
  const dataset = datasetOfContext(context, deps.datasets);
  const parts = await readManifests(context, deps);
  const dir = await invocationFolder(deps.cfg.workDir, 'commit');
  let outcome: IngestOutcome;
  try {
    outcome = await publish(context, dataset, parts, dir, deps);
  } catch (error) {
    const poison = isOutOfSpace(error) ? await outOfSpace(parts, deps.cfg.workDir, error) : error;
    if (!(poison instanceof PoisonFileError)) throw error;
    const now = deps.now ?? (() => new Date());
    const quarantined = await quarantine(context.raw, dataset.name, context.version, poison, deps, now);
    outcome = { ...quarantined, chunks: context.chunks };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await removeParts(context, deps);
  return outcome;
}

/**
 * Temp storage the commit needs: the parts, then silver and rejects beside
 * them (the same rows in zstd too, with their lineage: on trips silver is
 * 1.1 times the parts), and a margin.
 */
const COMMIT_SPACE_FACTOR = 2.5;

const sumOfParts = (parts: readonly ChunkPart[]) => parts.reduce((sum, part) => sum + part.partBytes, 0);

/**
 * A file whose parts cannot fit in the chunk function's temp storage is
 * quarantined before a byte comes down, saying what to raise: the same
 * parts never fit on a retry.
 */
async function checkCommitSpace(parts: readonly ChunkPart[], workDir: string): Promise<void> {
  const partBytes = sumOfParts(parts);
  const needed = partBytes * COMMIT_SPACE_FACTOR;
  const free = await freeBytes(workDir);
  if (needed <= free) return;
  throw new PoisonFileError(
    'too-large',
    `its ${parts.length} chunks staged ${mb(partBytes)} MB of rows, and publishing them needs about ${mb(needed)} MB of ` +
      `temp storage (the parts, then silver); WORK_DIR has ${mb(free)} MB free: raise ephemeral_storage_size ` +
      '(up to 10240 MB)',
  );
}

/**
 * The disk filled up all the same (another tenant of /tmp, or silver larger
 * than foreseen): the same parts would not fit on a retry either.
 */
async function outOfSpace(parts: readonly ChunkPart[], workDir: string, cause: unknown): Promise<PoisonFileError> {
  const free = await freeBytes(workDir).catch(() => 0);
  return new PoisonFileError(
    'too-large',
    `ran out of temp storage publishing the ${mb(sumOfParts(parts))} MB of rows its ${parts.length} chunks staged ` +
      `(${mb(free)} MB free in WORK_DIR before cleanup): raise ephemeral_storage_size (up to 10240 MB)`,
    { cause },
  );
}

/** Requests at once for a file's staging objects: hundreds of chunks have as many manifests and parts, each a small request. */
const STAGING_REQUESTS_AT_ONCE = 8;

/** Every chunk's manifest: one missing means its chunk never finished, a fault for the step's retries. */
async function readManifests(context: ChunkContext, { s3, cfg }: StepDeps): Promise<ChunkPart[]> {
  const parts: ChunkPart[] = [];
  const indexes = Array.from({ length: context.chunks }, (_, index) => index);
  await inParallel(indexes, STAGING_REQUESTS_AT_ONCE, async (index) => {
    const key = chunkManifestKey(context.raw.key, context.version, index);
    const part = await getJsonIfExists<ChunkPart>(s3, cfg.silverBucket, key);
    if (!part)
      throw new Error(
        `chunk ${index} of ${context.chunks} of ${context.raw.key} has no part: s3://${cfg.silverBucket}/${key}`,
      );
    parts[index] = part;
  });
  return parts;
}

/** Removes a file's staging prefix: its plan, parts, manifests and failures (after its commit, or its failure). */
export async function removeParts(
  context: Pick<ChunkContext, 'raw' | 'version'>,
  { s3, cfg }: StepDeps,
): Promise<void> {
  const keys = await listKeys(s3, cfg.silverBucket, chunkPartsPrefix(context.raw.key, context.version));
  await inParallel(keys, STAGING_REQUESTS_AT_ONCE, (key) => deleteObject(s3, cfg.silverBucket, key));
}

/** The staged parts downloaded and published as one file, the schema conformed, rejects then silver uploaded, one gold job. */
async function publish(
  context: ChunkContext,
  dataset: Dataset,
  parts: ChunkPart[],
  dir: string,
  { s3, cfg, gold }: StepDeps,
): Promise<IngestOutcome> {
  const { raw, version, format } = context;
  const lineage: Lineage = lineageOf(context);
  await checkCommitSpace(parts, cfg.workDir);
  await downloadParts(s3, cfg.silverBucket, parts, dir);
  const paths = { silver: join(dir, 'silver.parquet'), rejects: join(dir, 'rejects.parquet') };
  const { result, schema } = await withConnection(cfg, async (connection) => {
    const result = await assembleParts(connection, parts, dir, paths, { format, lineage, rules: dataset.rules });
    const schema = await conformToSchema(connection, {
      s3,
      bucket: cfg.silverBucket,
      dataset: dataset.name,
      evolution: dataset.schemaEvolution,
      silverPath: paths.silver,
      sourceKey: raw.key,
      now: lineage.ingestedAt,
    });
    return { result, schema };
  });
  const uploaded = context.object.lastModified;
  const outputs = await uploadOutputs(
    s3,
    cfg.silverBucket,
    { key: raw.key, version, ...(uploaded ? { lastModified: new Date(uploaded) } : {}) },
    paths,
    result.rejectedRows,
  );
  const queued = await queueGoldJob({ gold }, raw, dataset, outputs.silverKey);
  return {
    status: 'ingested',
    dataset: dataset.name,
    format,
    ...outputs,
    ...result,
    ...(schema.changes.length > 0 ? { schemaChanges: schema.changes } : {}),
    ...(queued === 'already-in-gold' ? { alreadyInGold: true as const } : {}),
    chunks: parts.length,
  };
}
