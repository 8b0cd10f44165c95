import { createReadStream } from 'node:fs';

/**
 * Where records start in a text file, found from small windows of bytes
 * around each split point instead of a read of the whole file. A record
 * starts after a line feed (so CRLF stays with its line); a CSV field in
 * double quotes may hold a line feed that does not end a record, and such a
 * file cannot be split by looking near the split points: `quotedLineBreak`
 * finds one in any window it is given.
 */

export const LINE_FEED = 0x0a;
export const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;

/** Offset just after the first line feed at or after `from` in `bytes`; undefined when there is none. */
export function nextRecordStart(bytes: Buffer, from: number): number | undefined {
  const at = bytes.indexOf(LINE_FEED, from);
  return at < 0 ? undefined : at + 1;
}

/**
 * Offset of a line feed inside double quotes in `bytes`, read from its start
 * as outside quotes; undefined when there is none. A window that starts
 * inside a quoted field holding a line break reads inverted, so the line
 * feed that really ends that record is seen inside quotes and found too
 * (when the window reaches it). A quote left open at the end of the window
 * is not a finding: the window may just cut a field in two.
 */
export function quotedLineBreak(bytes: Buffer): number | undefined {
  let quoted = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) quoted = !quoted;
    else if (byte === LINE_FEED && quoted) return i;
  }
  return undefined;
}

/** The complete lines of a window (those with a line feed on both sides), without their line breaks. */
export function completeLines(bytes: Buffer, startsAtRecord: boolean): string[] {
  const start = startsAtRecord ? 0 : nextRecordStart(bytes, 0);
  const end = bytes.lastIndexOf(LINE_FEED);
  if (start === undefined || end < start) return [];
  return bytes
    .subarray(start, end)
    .toString('utf8')
    .split('\n')
    .map((line) => line.replace(/\r$/, ''));
}

/** Whether a line is one JSON value, as a newline-delimited JSON record is (blank lines are skipped by readers). */
export function isJsonRecord(line: string): boolean {
  if (line.trim() === '') return true;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

export interface ScannedRecords {
  /** Line feeds from `from` on: a chunk's physical lines, which number its rejected lines in the whole file. */
  lineFeeds: number;
  /** A line feed inside double quotes, or a quote left open at the end: the chunk is not whole records. */
  quotedLineBreak: boolean;
  /**
   * The chunk starts with a carriage return that no line feed follows. DuckDB
   * reads that after the header put in front of the chunk, but not after a
   * data row, where the whole file has it: the two ways would differ.
   */
  startsWithLoneCarriageReturn: boolean;
  /** A double quote in a file whose start shows no quoting: the start's dialect may not hold here. */
  unexpectedQuote: boolean;
}

/**
 * One streamed pass over a chunk downloaded to a local file, from a record
 * start (`from`: after the header put in front): the exact check the plan's
 * windows only approximate. Chunk 0 starts where quotes are closed, and each
 * chunk that ends with its quotes closed hands the next one the same start,
 * so a file whose every chunk passes was split at record boundaries only.
 */
export async function scanRecords(path: string, from = 0, quote = '"'): Promise<ScannedRecords> {
  // No quote character: every line feed ends a record.
  const quoteByte = quote ? quote.charCodeAt(0) : -1;
  let quoted = false;
  let lineFeeds = 0;
  let quotedLineBreak = false;
  let unexpectedQuote = false;
  let first: Buffer | undefined;
  // 1 MB reads: at the default 64 KB, the reads cost twice the scan itself.
  for await (const piece of createReadStream(path, { start: from, highWaterMark: 1 << 20 })) {
    const bytes = piece as Buffer;
    first ??= bytes;
    if (quoteByte < 0 && !unexpectedQuote) unexpectedQuote = bytes.includes(QUOTE);
    // From quote to quote with indexOf (native), counting the line feeds in between: fast on large chunks.
    for (let at = 0; at < bytes.length; ) {
      const nextQuote = quoteByte < 0 ? -1 : bytes.indexOf(quoteByte, at);
      const end = nextQuote < 0 ? bytes.length : nextQuote;
      for (
        let feed = bytes.indexOf(LINE_FEED, at);
        feed >= 0 && feed < end;
        feed = bytes.indexOf(LINE_FEED, feed + 1)
      ) {
        lineFeeds++;
        if (quoted) quotedLineBreak = true;
      }
      if (nextQuote < 0) break;
      quoted = !quoted;
      at = nextQuote + 1;
    }
  }
  return {
    lineFeeds,
    quotedLineBreak: quotedLineBreak || quoted,
    startsWithLoneCarriageReturn: first?.[0] === CARRIAGE_RETURN && first[1] !== LINE_FEED,
    unexpectedQuote,
  };
}
