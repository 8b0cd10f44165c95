import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Samples memory while a step runs; `stop` answers the peak in MB (null when it could not be read). */
export interface RssSampler {
  stop(): Promise<number | null>;
}

/**
 * Samples, every `intervalMs`, the summed RSS of every process in the process
 * group `pgid` (a child spawned detached leads its own group, so its helpers
 * count too). Linux reads /proc; elsewhere it falls back to the leader's own
 * RSS from `ps`. A peak shorter than the interval can be missed.
 */
export function sampleProcessGroupRss(pgid: number, intervalMs = 100): RssSampler {
  const measure = process.platform === 'linux' ? () => groupRssKbFromProc(pgid) : () => rssKbFromPs(pgid);
  let peakKb: number | null = null;
  let sampling: Promise<void> = Promise.resolve();
  const sample = () => {
    // One sample at a time: a slow /proc walk must not pile up.
    sampling = sampling.then(async () => {
      const kb = await measure().catch(() => null);
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
      return peakKb === null ? null : Math.round(peakKb / 1024);
    },
  };
}

/** Sum of VmRSS over the processes whose pgrp (/proc/<pid>/stat) is `pgid`; null when none is left. */
async function groupRssKbFromProc(pgid: number): Promise<number | null> {
  let total = 0;
  let members = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (groupOf(await readFile(`/proc/${entry}/stat`, 'utf8')) !== pgid) continue;
      const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${entry}/status`, 'utf8'));
      members++;
      total += Number(rss?.[1] ?? 0);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return members > 0 ? total : null;
}

/** /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses. */
function groupOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[2]);
}

async function rssKbFromPs(pid: number): Promise<number | null> {
  const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)]);
  const kb = Number(stdout.trim());
  return Number.isFinite(kb) && kb > 0 ? kb : null;
}
