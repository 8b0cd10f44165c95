import { createReadStream } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { messageOf, PoisonFileError } from '../errors';
import type { Compression } from './formats';

/** Node >= 22.15 decompresses zstd natively; Node 20 (local runs) falls back to fzstd. */
const nativeZstd = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress;

function fzstdStream(): Transform {
  const stream: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.push(chunk);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  const decoder = new Decompress((data) => stream.push(Buffer.from(data)));
  return stream;
}

function inflater(compression: Exclude<Compression, 'none'>): Transform {
  return compression === 'gzip' ? zlib.createGunzip() : nativeZstd ? nativeZstd() : fzstdStream();
}

/**
 * The first `maxBytes` of a file's content, decompressed, read by streams
 * (no line-length limit, unlike peeking through a CSV reader). A file whose
 * start does not decompress is a poison file; one cut later still has a head
 * (the full check below reports the cut).
 */
export async function readHead(path: string, compression: Compression, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = async (input: AsyncIterable<Buffer>) => {
    for await (const chunk of input) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) return;
    }
  };
  try {
    if (compression === 'none') await pipeline(createReadStream(path, { end: maxBytes - 1 }), collect);
    else await pipeline(createReadStream(path), inflater(compression), collect);
  } catch (error) {
    if (size === 0) {
      throw new PoisonFileError(
        'unreadable',
        `starts like ${compression} but does not decompress: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}

class OverLimit extends Error {}

/**
 * Decompresses the whole file to nowhere, streaming, and stops past
 * `maxBytes`. DuckDB reads a gzip cut at a line boundary as if it ended
 * there, so a truncated upload would silently lose rows: this check turns it
 * into a quarantined file. The limit stops a decompression bomb (a tiny file
 * of gigabytes) before it fills the temp storage or the function's time.
 */
export async function verifyCompressedFile(
  path: string,
  compression: Compression,
  { maxBytes, limitReason }: { maxBytes: number; limitReason: string },
): Promise<void> {
  if (compression === 'none') return;
  let size = 0;
  const counter = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > maxBytes ? new OverLimit() : undefined);
    },
  });
  try {
    await pipeline(createReadStream(path), inflater(compression), counter);
  } catch (error) {
    if (error instanceof OverLimit) {
      throw new PoisonFileError(
        'too-large',
        `${compression} data that decompresses to more than ${mb(maxBytes)} MB (${limitReason})`,
      );
    }
    throw new PoisonFileError('unreadable', `corrupt or truncated ${compression} data: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

const mb = (bytes: number) => Math.floor(bytes / 1024 ** 2);
