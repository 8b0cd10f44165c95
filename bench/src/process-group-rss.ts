import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Measures memory while a step runs; `stop` answers the peak in MB (null when it could not be read). */
export interface PeakRss {
  stop(): Promise<number | null>;
}

/**
 * The peak RSS of the process group `pgid` (a child spawned detached leads
 * its own group, so its helpers count too) over a step. On Linux it is the
 * kernel's own high-water mark of each process (VmHWM), reset when the step
 * starts and read when it ends: exact, and nothing runs meanwhile. (Sampling
 * /proc every 100 ms took a tenth of a core from the step it measured, and
 * missed peaks shorter than that.) For a group of several processes it is
 * the sum of their peaks, which may not coincide: an upper bound. Where the
 * marks cannot be reset, it samples the leader's RSS from `ps`.
 */
export async function measureGroupPeakRss(pgid: number): Promise<PeakRss> {
  if (process.platform === 'linux' && (await resetPeaks(pgid))) {
    return { stop: async () => toMb(await groupPeakKb(pgid)) };
  }
  return samplePs(pgid);
}

/** Resets each member's VmHWM to its current RSS (clear_refs 5, Linux 4.0 and later); false when it cannot. */
async function resetPeaks(pgid: number): Promise<boolean> {
  const members = await groupMembers(pgid);
  try {
    for (const pid of members) await writeFile(`/proc/${pid}/clear_refs`, '5');
    return members.length > 0;
  } catch {
    return false;
  }
}

/** Sum of the members' VmHWM (/proc/<pid>/status, kB); null when none is left. */
async function groupPeakKb(pgid: number): Promise<number | null> {
  let total = 0;
  let read = 0;
  for (const pid of await groupMembers(pgid)) {
    try {
      const value = /^VmHWM:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
      total += Number(value?.[1] ?? 0);
      read++;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return read > 0 ? total : null;
}

/** The processes whose pgrp (/proc/<pid>/stat) is `pgid`. */
async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (groupOf(await readFile(`/proc/${entry}/stat`, 'utf8')) === pgid) members.push(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return members;
}

/** /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses. */
function groupOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[2]);
}

/** Elsewhere: the leader's RSS from `ps` every 100 ms (a peak shorter than that can be missed). */
function samplePs(pid: number, intervalMs = 100): PeakRss {
  let peakKb: number | null = null;
  let sampling: Promise<void> = Promise.resolve();
  const sample = () => {
    // One sample at a time: a slow ps must not pile up.
    sampling = sampling.then(async () => {
      const kb = await rssKbFromPs(pid).catch(() => null);
      if (kb !== null) peakKb = Math.max(peakKb ?? 0, kb);
    });
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      sample();
      await sampling;
      return toMb(peakKb);
    },
  };
}

async function rssKbFromPs(pid: number): Promise<number | null> {
  const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)]);
  const kb = Number(stdout.trim());
  return Number.isFinite(kb) && kb > 0 ? kb : null;
}

const toMb = (kb: number | null) => (kb === null ? null : Math.round(kb / 1024));
