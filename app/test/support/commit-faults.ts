import type { S3Client } from '@aws-sdk/client-s3';
import { goldManifestKey } from '@lakehouse/contract';

/**
 * Faults at one exact moment of a gold commit, which no proxy can time: the
 * handler's own client fails the request, as a connection reset would.
 */

const isManifestPut = (commandName: string | undefined, input: unknown, dataset: string) =>
  commandName === 'PutObjectCommand' && (input as { Key?: string }).Key === goldManifestKey(dataset);

/** The next write of the dataset's gold manifest (the commit point) fails. */
export function failNextManifestPut(s3: S3Client, dataset: string): void {
  let failNext = true;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (failNext && isManifestPut(context.commandName, args.input, dataset)) {
        failNext = false;
        throw new Error('connection reset before the manifest was written');
      }
      return next(args);
    },
    { step: 'initialize', name: 'failNextManifestPut' },
  );
}

/** Once the dataset's manifest is written, every delete fails (a commit's cleanup cut short); returns the undo. */
export function failDeletesAfterManifest(s3: S3Client, dataset: string): () => void {
  let manifestWritten = false;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (manifestWritten && context.commandName === 'DeleteObjectCommand') throw new Error('connection reset');
      const result = await next(args);
      if (isManifestPut(context.commandName, args.input, dataset)) manifestWritten = true;
      return result;
    },
    { step: 'initialize', name: 'failDeletesAfterManifest' },
  );
  return () => s3.middlewareStack.remove('failDeletesAfterManifest');
}
