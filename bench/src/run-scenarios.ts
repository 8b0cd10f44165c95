import { formatCount } from '@lakehouse/app/local/terminal';
import type { DuckdbSizing } from './lambda-duckdb';
import type { BenchOptions } from './options';
import { progressLine } from './progress';
import type { BenchResults } from './results';
import { runChunks } from './scenarios/chunks';
import { runColdStart } from './scenarios/cold-start';
import { runComparison } from './scenarios/comparison';
import { runGoldGrowth } from './scenarios/gold-growth';
import { runMemory } from './scenarios/memory';
import type { TripsFiles } from './trips-files';

type ScenarioResults = Pick<BenchResults, 'comparison' | 'goldGrowth' | 'coldStart' | 'memory' | 'chunks'>;

/** Small files for the cold start: the load and set-up should dominate, not the data. */
const COLD_START_ROWS = 100;
/** Gold growth's files all fall on these days, so each one updates partitions gold already has. */
const GOLD_GROWTH_DAYS = { startDate: '2026-03-01', days: 3 };

/** Runs the selected scenarios in order, generating each one's files first (not timed). */
export async function runScenarios(options: BenchOptions, sizing: DuckdbSizing, trips: TripsFiles) {
  const results: ScenarioResults = {};
  const selected = new Set(options.scenarios);
  // One name per size: the comparison and memory scenarios share a file of the same size.
  const sized = (rows: number) => {
    progressLine(`generating ${formatCount(rows)} trips (not timed)`);
    return trips.file(`trips-${rows}`, { rows, seed: rows });
  };

  if (selected.has('comparison')) {
    const file = await sized(options.rows);
    progressLine('\ncomparison: DuckDB alone, the pipeline end to end, nodejs-polars');
    results.comparison = await runComparison(file, { runs: options.runs, memoryMb: options.memoryMb, sizing });
  }

  if (selected.has('gold-growth')) {
    progressLine(`\ngenerating ${options.goldFiles} files of ${formatCount(options.goldRows)} new trips (not timed)`);
    const files = [];
    for (let index = 1; index <= options.goldFiles; index++) {
      files.push(
        await trips.file(`gold-growth-${index}`, {
          rows: options.goldRows,
          seed: 1000 + index,
          idPrefix: `g${index}-`,
          ...GOLD_GROWTH_DAYS,
        }),
      );
    }
    progressLine('gold growth: one lakehouse, files one after another');
    results.goldGrowth = await runGoldGrowth(files, options.memoryMb);
  }

  if (selected.has('cold-start')) {
    const first = await trips.file('cold-start-1', { rows: COLD_START_ROWS, seed: 1, idPrefix: 'cold1-' });
    const second = await trips.file('cold-start-2', { rows: COLD_START_ROWS, seed: 2, idPrefix: 'cold2-' });
    progressLine('\ncold start: the handler in a fresh process');
    results.coldStart = await runColdStart(first, second, options.runs, options.memoryMb);
  }

  if (selected.has('memory')) {
    const files = [];
    for (const rows of options.memoryRows) files.push(await sized(rows));
    progressLine('\nmemory: one file per size, each into a fresh lakehouse');
    results.memory = await runMemory(files, options.memoryMb);
  }

  if (selected.has('chunks')) {
    const file = await sized(options.chunkRows);
    progressLine('\nchunks: one file whole, then in chunks, each into a fresh lakehouse');
    results.chunks = await runChunks(file, options.runs, options.memoryMb);
  }
  return results;
}
