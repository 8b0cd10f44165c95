import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { copyFile, link, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { downloadToFile } from './s3-io';

/** An object version: immutable, so a local copy never goes stale. */
export interface CachedObjectRef {
  bucket: string;
  key: string;
  eTag: string;
}

interface Entry {
  path: string;
  bytes: number;
  /** Jobs using the file right now: never evicted under them. */
  pins: number;
}

/**
 * Local copies of immutable objects (gold state), kept in the work dir across
 * warm invocations and bounded in size, least recently used out first. An
 * object is identified by its key and ETag, so a rewritten key is a new entry.
 * A cold start begins empty; the cache only ever saves downloads.
 */
export class ObjectCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private sequence = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  /**
   * A local path holding the object, downloaded unless cached; pinned until
   * `release`. Callers read it and never write to it.
   */
  acquire(s3: S3Client, ref: CachedObjectRef): Promise<string> {
    return this.fill(ref, async (temp) => {
      const downloaded = await downloadToFile(s3, ref, temp);
      if (downloaded.eTag !== ref.eTag) {
        throw new Error(`s3://${ref.bucket}/${ref.key} changed: ETag ${downloaded.eTag}, expected ${ref.eTag}`);
      }
      return downloaded.bytes;
    });
  }

  /** Adds a local file as the content of `ref` (it was just uploaded from it), pinned. */
  put(ref: CachedObjectRef, path: string): Promise<string> {
    return this.fill(ref, async (temp) => {
      // A hard link costs nothing; another file system needs a copy.
      await link(path, temp).catch(() => copyFile(path, temp));
      return (await stat(temp)).size;
    });
  }

  /** The cached copy of `ref`, or a new one that `write` puts at a temporary path (returning its size). */
  private async fill(ref: CachedObjectRef, write: (temp: string) => Promise<number>): Promise<string> {
    const id = idOf(ref);
    const cached = this.touch(id);
    if (cached) return cached.path;
    mkdirSync(this.dir, { recursive: true });
    const temp = join(this.dir, `incoming-${process.pid}-${this.sequence++}`);
    try {
      return await this.adopt(id, temp, await write(temp));
    } finally {
      await rm(temp, { force: true });
    }
  }

  release(paths: Iterable<string>): void {
    for (const path of paths) {
      for (const entry of this.entries.values()) if (entry.path === path) entry.pins = Math.max(0, entry.pins - 1);
    }
    void this.evict();
  }

  private touch(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (!existsSync(entry.path)) {
      // Removed under us (a restarted lakehouse clearing leftovers): fetch it again.
      this.entries.delete(id);
      this.bytes -= entry.bytes;
      return undefined;
    }
    // Map order is insertion order: re-inserting makes it the most recently used.
    this.entries.delete(id);
    this.entries.set(id, entry);
    entry.pins++;
    return entry;
  }

  private async adopt(id: string, temp: string, bytes: number): Promise<string> {
    const existing = this.touch(id);
    if (existing) return existing.path;
    const path = join(this.dir, `${id}.parquet`);
    await rename(temp, path);
    this.entries.set(id, { path, bytes, pins: 1 });
    this.bytes += bytes;
    await this.evict();
    return path;
  }

  private async evict(): Promise<void> {
    for (const [id, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      if (entry.pins > 0) continue;
      this.entries.delete(id);
      this.bytes -= entry.bytes;
      await rm(entry.path, { force: true });
    }
  }
}

const idOf = (ref: CachedObjectRef) =>
  createHash('sha256').update(`${ref.bucket}\0${ref.key}\0${ref.eTag}`).digest('hex').slice(0, 32);
