import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { messageOf, PoisonFileError } from '../errors';
import type { Compression } from './formats';

/** Node >= 22.15 decompresses zstd natively; Node 20 (local runs) falls back to fzstd. */
const nativeZstd = (zlib as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

function zstdVerifier(): Writable {
  const decoder = new Decompress(() => undefined);
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        decoder.push(chunk);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    final(done) {
      try {
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/**
 * Decompresses the whole file to nowhere, streaming. DuckDB reads a gzip cut
 * at a line boundary as if it ended there, so a truncated upload would
 * silently lose rows; this check turns it into a quarantined file instead.
 */
export async function verifyCompressedFile(path: string, compression: Compression): Promise<void> {
  if (compression === 'none') return;
  try {
    if (compression === 'gzip') {
      await pipeline(createReadStream(path), zlib.createGunzip(), discard());
    } else if (nativeZstd) {
      await pipeline(createReadStream(path), nativeZstd(), discard());
    } else {
      await pipeline(createReadStream(path), zstdVerifier());
    }
  } catch (error) {
    throw new PoisonFileError('unreadable', `corrupt or truncated ${compression} data: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
