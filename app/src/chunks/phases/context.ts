import type { Dataset } from '../../datasets';
import type { PoisonReason } from '../../errors';
import type { CsvDialect } from '../../ingest/csv-dialect';
import type { DetectedFormat } from '../../ingest/formats';
import type { IngestDeps, RawObject } from '../../ingest/ingest-object';
import type { RowGroupChunk, TextChunk } from '../plan-chunks';
import type { ChunkJob, CsvSource, ParquetSource } from '../process-chunk';

/**
 * What every step of one file in chunks shares, as plain JSON: the state
 * machine's input on AWS (each chunk gets it beside its item), the same
 * object in the local lakehouse. Small by design: a Step Functions payload
 * is at most 256 KB, so the items travel in the plan object, not here.
 */
export interface ChunkContext {
  /** The object as the event named it (the quarantine record says so). */
  raw: RawObject;
  /** The version every chunk reads: the plan's ETag (and version id), and when it was uploaded (ISO 8601). */
  object: { bucket: string; key: string; eTag: string; versionId?: string; lastModified?: string };
  /** The version output keys are named by, as the single-invocation path names them. */
  version: string;
  dataset: string;
  format: 'csv' | 'parquet';
  /** How many items the plan holds: the commit reads one part manifest for each. */
  chunks: number;
  source: SerialisedCsvSource | ParquetSource;
  lineage: { sourceKey: string; sourceEtag: string; sourceVersionId?: string; ingestedAt: string };
}

/** A CSV source in JSON: the header line in base64, the detected format without its head bytes. */
interface SerialisedCsvSource {
  format: 'csv';
  detected: Pick<DetectedFormat, 'format' | 'compression'>;
  dialect: CsvDialect;
  headerBase64?: string;
}

/** One item of the plan: a byte range of a text file, or row groups of a Parquet file. */
export type ChunkItem = TextChunk | RowGroupChunk;

/**
 * Why a chunk failed for good, recorded beside the parts for the fail step:
 * the file itself (`poison`, with its reason), a chunk that is not whole
 * records (`not-splittable`: the file is read whole), the object gone, or a
 * fault that outlasted the retries (`transient`).
 */
export interface ChunkFailure {
  index: number;
  start: number;
  end: number;
  kind: 'poison' | 'not-splittable' | 'source-gone' | 'transient';
  reason?: PoisonReason;
  message: string;
  /** Runs of the chunk, when known. */
  attempts?: number;
}

export type StepDeps = Pick<IngestDeps, 's3' | 'cfg' | 'datasets' | 'gold' | 'now'>;

export function serialiseSource(source: CsvSource | ParquetSource): ChunkContext['source'] {
  if (source.format === 'parquet') return source;
  const { format, compression } = source.detected;
  return {
    format: 'csv',
    detected: { format, compression },
    dialect: source.dialect,
    ...(source.header ? { headerBase64: source.header.toString('base64') } : {}),
  };
}

/** The dataset a context names, from the image's transforms: a missing one is a deployment fault, not the file's. */
export function datasetOfContext(context: ChunkContext, datasets: ReadonlyMap<string, Dataset>): Dataset {
  const dataset = datasets.get(context.dataset);
  if (!dataset) throw new Error(`dataset ${context.dataset} of ${context.raw.key} has no folder in this image`);
  return dataset;
}

/** The job `processChunk` runs, rebuilt from the context. */
export function chunkJobOf(context: ChunkContext, { s3, cfg, datasets }: StepDeps): ChunkJob {
  const { source } = context;
  return {
    s3,
    cfg,
    object: context.object,
    version: context.version,
    dataset: datasetOfContext(context, datasets),
    source:
      source.format === 'parquet'
        ? source
        : {
            format: 'csv',
            detected: source.detected,
            dialect: source.dialect,
            ...(source.headerBase64 ? { header: Buffer.from(source.headerBase64, 'base64') } : {}),
          },
  };
}

export function lineageOf({ lineage }: ChunkContext) {
  return { ...lineage, ingestedAt: new Date(lineage.ingestedAt) };
}

/** Where a chunk is in its file, as failures name it: `chunk 2 of 7 (bytes 1200-1799)`. */
export function chunkPlace(failure: Pick<ChunkFailure, 'index' | 'start' | 'end'>, chunks: number): string {
  return `chunk ${failure.index} of ${chunks} (bytes ${failure.start}-${failure.end - 1})`;
}
