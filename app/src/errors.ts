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

export type PoisonReason =
  | 'empty'
  | 'unreadable'
  | 'unsupported-format'
  | 'encoding'
  | 'schema'
  | 'too-large'
  /** One chunk of a file processed in chunks failed after its retries. */
  | 'chunk-failed';

/** S3 said the object is gone (deleted or overwritten since the event): nothing to do. */
export class SourceGoneError extends Error {
  override name = 'SourceGoneError';
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * DuckDB's error as a quarantine reason can say it: its first line, without
 * the error class, the local path of the file (`path`: "the file") or the
 * query and advice about read options the user does not set.
 */
export function duckdbMessage(error: unknown, path?: string): string {
  let message = messageOf(error).split('\n')[0] ?? '';
  message = message.replace(/^([A-Za-z ]*Error: )+/, '');
  if (path) {
    for (const quoted of [`file "${path}"`, `file '${path}'`, `"${path}"`, `'${path}'`, path]) {
      message = message.split(quoted).join('the file');
    }
  }
  return message.trim();
}
