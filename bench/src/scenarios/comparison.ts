import type { DuckdbSizing } from '../lambda-duckdb';
import { progress, progressLine } from '../progress';
import { type Spread, spread, stepSpreads } from '../stats';
import { type EngineFigures, runEngine } from '../steps/engine';
import { type PeerFigures, runPeer } from '../steps/peer';
import { type PipelineFigures, runPipeline } from '../steps/pipeline';
import type { TripsFile } from '../trips-files';

export interface StepSummary {
  seconds: Spread;
  /** Median time over the engine's median time. */
  ratioToEngine: number;
  /** The highest peak of the runs; null when it could not be read. */
  peakRssMb: number | null;
}

export interface ComparisonResult {
  rows: number;
  fileBytes: number;
  key: string;
  runs: { engine: EngineFigures[]; pipeline: PipelineFigures[]; peer: PeerFigures[] };
  engine: StepSummary;
  pipeline: StepSummary & {
    handlerSeconds: Spread;
    goldSeconds: Spread | null;
    /** Of the handler's time, each step's (empty when the lakehouse does not report them). */
    steps: Array<{ step: string; seconds: Spread }>;
  };
  peer: (StepSummary & { version: string }) | { unavailable: string };
}

export interface ComparisonOptions {
  runs: number;
  memoryMb: number;
  sizing: DuckdbSizing;
}

/**
 * The same file through DuckDB alone, the pipeline end to end, and a peer.
 * Runs interleave (engine, pipeline, peer; then again), so drift on the
 * machine spreads over all three instead of landing on one.
 */
export async function runComparison(file: TripsFile, options: ComparisonOptions): Promise<ComparisonResult> {
  const key = `trips/bench/${file.rows}.csv`;
  const runs: ComparisonResult['runs'] = { engine: [], pipeline: [], peer: [] };
  for (let run = 1; run <= options.runs; run++) {
    progress(`  run ${run}/${options.runs}: engine `);
    const engine = await runEngine(file, options.sizing);
    runs.engine.push(engine);
    progress(`${seconds(engine.ms)}, pipeline `);
    const pipeline = await runPipeline(file, key, options.memoryMb);
    runs.pipeline.push(pipeline);
    progress(`${pipeline.status} ${seconds(pipeline.ms)}, peer `);
    const peer = await runPeer(file, options.sizing);
    runs.peer.push(peer);
    progressLine(peer.available ? seconds(peer.ms) : 'unavailable');
  }
  return { rows: file.rows, fileBytes: file.bytes, key, runs, ...summarise(runs) };
}

function summarise(runs: ComparisonResult['runs']): Pick<ComparisonResult, 'engine' | 'pipeline' | 'peer'> {
  const engineMedian = spread(runs.engine.map((run) => run.ms)).median;
  const summary = (ms: number[], peaks: Array<number | null>): StepSummary => {
    const secondsSpread = spread(ms.map((value) => value / 1000));
    const known = peaks.filter((peak): peak is number => peak !== null);
    return {
      seconds: secondsSpread,
      ratioToEngine: (secondsSpread.median * 1000) / engineMedian,
      peakRssMb: known.length ? Math.max(...known) : null,
    };
  };
  const goldMs = runs.pipeline.map((run) => run.goldMs).filter((ms): ms is number => ms !== null);
  const peerRuns = runs.peer.flatMap((run) => (run.available ? [run] : []));
  const peerFailure = runs.peer.find((run) => !run.available);
  return {
    engine: summary(
      runs.engine.map((run) => run.ms),
      runs.engine.map((run) => run.peakRssMb),
    ),
    pipeline: {
      ...summary(
        runs.pipeline.map((run) => run.ms),
        runs.pipeline.map((run) => run.peakRssMb),
      ),
      handlerSeconds: spread(runs.pipeline.map((run) => run.handlerMs / 1000)),
      goldSeconds: goldMs.length ? spread(goldMs.map((ms) => ms / 1000)) : null,
      steps: stepSpreads(runs.pipeline.map((run) => run.stepsMs)),
    },
    peer:
      peerFailure || peerRuns.length === 0
        ? { unavailable: peerFailure && !peerFailure.available ? peerFailure.reason : 'not run' }
        : {
            ...summary(
              peerRuns.map((run) => run.ms),
              peerRuns.map((run) => run.peakRssMb),
            ),
            version: peerRuns[0]?.version ?? 'unknown',
          },
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
