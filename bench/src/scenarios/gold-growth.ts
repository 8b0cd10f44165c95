import { countGoldTrips } from '../gold-check';
import { progress, progressLine } from '../progress';
import { median } from '../stats';
import { ingestOne } from '../steps/ingest-one';
import { withLakehouse } from '../steps/pipeline';
import type { TripsFile } from '../trips-files';

export interface GoldGrowthFile {
  key: string;
  status: string;
  rows: number;
  silverRows: number;
  rejectedRows: number;
  handlerMs: number;
  goldMs: number | null;
  pipelineMs: number;
}

export interface GoldGrowthResult {
  files: GoldGrowthFile[];
  goldMs: { first: number | null; last: number | null; median: number | null; lastOverFirst: number | null };
  /** Gold is exact when it counts every silver row once. */
  check: { goldTrips: number; silverRows: number; goldPartitions: number; exact: boolean };
}

/**
 * Files of new trips over the same few days, one after another into one
 * lakehouse: does folding a file into gold slow down as gold grows, and does
 * gold still count every trip exactly once?
 */
export async function runGoldGrowth(files: readonly TripsFile[], memoryMb: number): Promise<GoldGrowthResult> {
  return withLakehouse(memoryMb, async (lakehouse, client) => {
    const perFile: GoldGrowthFile[] = [];
    for (const [index, file] of files.entries()) {
      const key = `trips/bench/gold-growth/${String(index + 1).padStart(2, '0')}-${file.rows}.csv`;
      progress(`  file ${index + 1}/${files.length}: `);
      const { line, pipelineMs } = await ingestOne(lakehouse, client, file.path, key);
      perFile.push({
        key,
        status: line.status,
        rows: file.rows,
        silverRows: line.silverRows ?? 0,
        rejectedRows: line.rejectedRows ?? 0,
        handlerMs: line.ms,
        goldMs: line.goldMs ?? null,
        pipelineMs,
      });
      progressLine(`${line.status}, gold ${line.goldMs ?? '?'} ms`);
    }
    const gold = await countGoldTrips(client);
    const silverRows = perFile.reduce((sum, file) => sum + file.silverRows, 0);
    const goldMs = perFile.map((file) => file.goldMs).filter((ms): ms is number => ms !== null);
    const first = perFile[0]?.goldMs ?? null;
    const last = perFile.at(-1)?.goldMs ?? null;
    return {
      files: perFile,
      goldMs: {
        first,
        last,
        median: goldMs.length ? median(goldMs) : null,
        lastOverFirst: first && last !== null ? last / first : null,
      },
      check: {
        goldTrips: gold.trips,
        silverRows,
        goldPartitions: gold.partitions,
        exact: gold.trips === silverRows && perFile.every((file) => file.status === 'ingested'),
      },
    };
  });
}
