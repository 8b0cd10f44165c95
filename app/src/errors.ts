/**
 * A file that can never be processed (unparseable, empty, wrong schema, too
 * large): quarantined, and the invocation succeeds, since retrying is pointless.
 */
export class PoisonFileError extends Error {
  override name = 'PoisonFileError';
  constructor(
    readonly reason: PoisonReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type PoisonReason = 'empty' | 'unreadable' | 'unsupported-format' | 'schema' | 'too-large';

/** S3 said the object is gone (deleted or overwritten since the event): nothing to do. */
export class SourceGoneError extends Error {
  override name = 'SourceGoneError';
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
