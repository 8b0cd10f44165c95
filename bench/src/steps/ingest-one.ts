import type { S3Client } from '@aws-sdk/client-s3';
import type { EventLine, LakehouseProcess } from '../lakehouse-process';
import { measureGroupPeakRss } from '../process-group-rss';
import { BUCKETS, uploadFile } from '../s3-objects';

export interface Ingestion {
  line: EventLine;
  uploadMs: number;
  /** From the upload's completion to the lakehouse's line for that key. */
  pipelineMs: number;
  /** Of the lakehouse's whole process group, while uploading and processing; null where unreadable. */
  peakRssMb: number | null;
}

/** Uploads one file to raw and waits for the lakehouse to report it, with the peak of its memory meanwhile. */
export async function ingestOne(
  lakehouse: LakehouseProcess,
  client: S3Client,
  path: string,
  key: string,
): Promise<Ingestion> {
  const processed = lakehouse.whenProcessed(key);
  // Awaited below; this only keeps a lakehouse that dies mid-upload from being an unhandled rejection.
  processed.catch(() => {});
  const rss = await measureGroupPeakRss(lakehouse.pid);
  try {
    const uploadStarted = performance.now();
    await uploadFile(client, BUCKETS.raw, key, path);
    const uploaded = performance.now();
    const { line, at } = await processed;
    const peakRssMb = await rss.stop();
    return {
      line,
      uploadMs: Math.round(uploaded - uploadStarted),
      // The line cannot come before the object is complete; a tiny file can beat the upload's own response.
      pipelineMs: Math.max(0, Math.round(at - uploaded)),
      peakRssMb,
    };
  } catch (error) {
    await rss.stop();
    throw error;
  }
}
