import { formatCount } from '@lakehouse/app/local/terminal';
import type { BenchResults } from './results';
import type { ChunksResult } from './scenarios/chunks';
import type { ColdStartResult } from './scenarios/cold-start';
import type { ComparisonResult, StepSummary } from './scenarios/comparison';
import type { GoldGrowthResult } from './scenarios/gold-growth';
import type { MemoryResult } from './scenarios/memory';
import type { Spread } from './stats';
import type { PipelineFigures } from './steps/pipeline';

/** A table of figures, rendered alike in the console and in markdown. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  notes: string[];
}

const MB = 1024 * 1024;
/** How the pipeline's peak is read (process-group-rss.ts). */
const GROUP_PEAK =
  "peak RSS is the lakehouse process group's (S3 server included): the kernel's high-water mark (VmHWM), reset as " +
  'the upload starts and read at the line';
const fixed = (value: number | null | undefined, digits = 2) => (value == null ? '' : value.toFixed(digits));
const range = (spread: Spread, digits = 2) => `${spread.min.toFixed(digits)}–${spread.max.toFixed(digits)}`;
const mb = (value: number | null) => (value === null ? 'n/a' : String(value));
const msToS = (ms: number | null | undefined) => (ms == null ? '' : (ms / 1000).toFixed(2));

/** The figures a reader compares: one table per scenario that ran. */
export function summaryTables(results: BenchResults): Table[] {
  return [
    results.comparison && comparisonTable(results.comparison),
    results.goldGrowth && goldGrowthTable(results.goldGrowth),
    results.coldStart && coldStartTable(results.coldStart),
    results.memory && memoryTable(results.memory),
    results.chunks && chunksTable(results.chunks),
  ].filter((table): table is Table => table !== undefined);
}

/** Every run's own figures, for the record. */
export function rawTables(results: BenchResults): Table[] {
  return [
    results.comparison && comparisonRunsTable(results.comparison),
    results.goldGrowth && goldGrowthFilesTable(results.goldGrowth),
    results.coldStart && coldStartRunsTable(results.coldStart),
    results.chunks && chunksRunsTable(results.chunks),
  ].filter((table): table is Table => table !== undefined);
}

function comparisonTable(result: ComparisonResult): Table {
  const step = (name: string, summary: StepSummary) => [
    name,
    fixed(summary.seconds.median),
    range(summary.seconds),
    fixed(summary.ratioToEngine, 1),
    mb(summary.peakRssMb),
  ];
  const part = (name: string, spread: Spread | null) =>
    spread ? [name, fixed(spread.median), range(spread), '', ''] : [name, 'n/a', '', '', ''];
  const peer = result.peer;
  return {
    title: `Comparison: ${formatCount(result.rows)} trips, ${(result.fileBytes / MB).toFixed(1)} MB of CSV, median of ${result.runs.engine.length}`,
    header: ['step', 'median s', 'min–max s', '× engine', 'peak RSS MB'],
    rows: [
      step('DuckDB alone: CSV → Parquet → gold', result.engine),
      step('pipeline end to end (local lakehouse)', result.pipeline),
      part('pipeline, of which handler', result.pipeline.handlerSeconds),
      // The gold step is the gold update here: its row is the one below.
      ...result.pipeline.steps
        .filter(({ step }) => step !== 'gold')
        .map(({ step, seconds }) => part(`handler, of which ${step}`, seconds)),
      part('pipeline, of which gold', result.pipeline.goldSeconds),
      'unavailable' in peer
        ? ['nodejs-polars: CSV → Parquet → gold', 'unavailable', '', '', '']
        : step(`nodejs-polars ${peer.version}: CSV → Parquet → gold`, peer),
    ],
    notes: [
      'DuckDB alone and nodejs-polars: timed inside a fresh process (process start excluded), no quality rules; peak RSS is that process.',
      'Pipeline: from upload complete to the lakehouse line for the file (download, rules, silver, rejects, gold, uploads); ' +
        `${GROUP_PEAK}.`,
      "Handler steps: from the lakehouse line's stepsMs: download (the raw object), stage (CSV read, the dataset's SQL and " +
        'rules), publish (silver and rejects written, checked against the schema), upload (rejects, then silver).',
      ...('unavailable' in peer ? [`nodejs-polars unavailable: ${peer.unavailable}`] : []),
    ],
  };
}

function goldGrowthTable(result: GoldGrowthResult): Table {
  const { goldMs, check } = result;
  const rows = result.files[0]?.rows ?? 0;
  return {
    title: `Gold growth: ${result.files.length} files of ${formatCount(rows)} new trips over the same 3 days, one lakehouse`,
    header: ['figure', 'value'],
    rows: [
      ['gold s, first file', msToS(goldMs.first)],
      ['gold s, last file', msToS(goldMs.last)],
      ['gold s, median', msToS(goldMs.median)],
      ['last / first', fixed(goldMs.lastOverFirst)],
      [
        'gold exact',
        `${check.exact ? 'yes' : 'NO'}: ${formatCount(check.goldTrips)} trips in ${check.goldPartitions} partitions, ` +
          `${formatCount(check.silverRows)} silver rows`,
      ],
    ],
    notes: ['gold s: the gold update of each file, from its lakehouse line (goldMs).'],
  };
}

function coldStartTable(result: ColdStartResult): Table {
  const phase = (name: string, spread: Spread) => [name, spread.median.toFixed(0), range(spread, 0)];
  return {
    title: `Cold start: the handler in a fresh process, ${formatCount(result.rowsPerFile)}-trip files, median of ${result.runs.length}`,
    header: ['phase', 'median ms', 'min–max ms'],
    rows: [
      phase('load handler modules', result.loadModulesMs),
      phase('first ingestion (runtime, DuckDB instance)', result.firstIngestionMs),
      phase('second ingestion (warm)', result.warmIngestionMs),
    ],
    notes: ['Modules load through tsx (TypeScript transpiled, cached on disk), not the bundled image.'],
  };
}

function memoryTable(result: MemoryResult): Table {
  return {
    title: 'Memory: one file per size, each into a fresh lakehouse',
    header: ['trips', 'CSV MB', 'pipeline s', 'µs / trip', 'handler s', 'gold s', 'peak RSS MB', 'status'],
    rows: result.sizes.map((size) => [
      formatCount(size.rows),
      (size.fileBytes / MB).toFixed(1),
      msToS(size.ms),
      fixed(size.microsPerRow),
      msToS(size.handlerMs),
      msToS(size.goldMs),
      mb(size.peakRssMb),
      size.status,
    ]),
    notes: [`Time per trip, largest over smallest size: ${fixed(result.largestOverSmallest)} (1 is linear).`],
  };
}

function chunksTable(result: ChunksResult): Table {
  const { chunks } = result;
  const way = (name: string, summary: ChunksResult['whole'], ratio: string) => [
    name,
    fixed(summary.seconds.median),
    range(summary.seconds),
    ratio,
    mb(summary.peakRssMb),
  ];
  return {
    title:
      `Chunks: ${formatCount(result.rows)} trips, ${(result.fileBytes / MB).toFixed(1)} MB of CSV, whole vs ` +
      `--chunk-mb ${chunks.mb} --chunk-concurrency ${chunks.concurrency}, median of ${result.runs.whole.length}`,
    header: ['way', 'median s', 'min–max s', '÷ whole', 'peak RSS MB'],
    rows: [
      way('whole (one invocation)', result.whole, '1.00'),
      way(`in ${result.chunked.chunkCount ?? '?'} chunks`, result.chunked, fixed(result.chunkedOverWhole)),
      [
        `one chunk worker (chunk ${result.worker.index}, ${(result.worker.bytes / MB).toFixed(1)} MB), own process`,
        msToS(result.worker.ms),
        '',
        '',
        mb(result.worker.peakRssMb),
      ],
    ],
    notes: [
      `From upload complete to the lakehouse line for the file, each run into a fresh lakehouse; ${GROUP_PEAK}.`,
      'Chunks run inside the lakehouse process, sharing one DuckDB instance. The chunk worker row is the largest chunk ' +
        "run once more on its own, in a fresh process through the chunk function's entry point (as one invocation " +
        "on AWS), the S3 server outside it: its peak RSS is the worker's own (Lambda's Max Memory Used).",
      `Same silver and rejected row counts in every run: ${result.sameCounts ? 'yes' : 'NO'}; the same rows ` +
        `(silver and rejects, every column but _ingested_at, hashed) and gold totals: ${result.sameOutput ? 'yes' : 'NO'}.`,
    ],
  };
}

function chunksRunsTable(result: ChunksResult): Table {
  const row = (way: string, run: PipelineFigures, index: number) => [
    String(index + 1),
    way,
    msToS(run.ms),
    msToS(run.uploadMs),
    msToS(run.handlerMs),
    msToS(run.goldMs),
    run.chunks === null ? '' : String(run.chunks),
    formatCount(run.silverRows ?? 0),
    formatCount(run.rejectedRows ?? 0),
    mb(run.peakRssMb),
    stepsText(run.stepsMs),
  ];
  return {
    title: 'Chunks, every run',
    header: [
      'run',
      'way',
      'pipeline s',
      'upload s',
      'handler s',
      'gold s',
      'chunks',
      'silver rows',
      'rejected rows',
      'RSS MB',
      'handler steps s',
    ],
    rows: result.runs.whole.flatMap((whole, index) => {
      const chunked = result.runs.chunked[index];
      return [row('whole', whole, index), ...(chunked ? [row('chunked', chunked, index)] : [])];
    }),
    notes: [],
  };
}

function comparisonRunsTable(result: ComparisonResult): Table {
  return {
    title: 'Comparison, every run',
    header: [
      'run',
      'engine s',
      'engine RSS MB',
      'pipeline s',
      'upload s',
      'handler s',
      'gold s',
      'silver rows',
      'rejected rows',
      'pipeline RSS MB',
      'handler steps s',
      'peer s',
      'peer RSS MB',
    ],
    rows: result.runs.engine.map((engine, index) => {
      const pipeline = result.runs.pipeline[index];
      const peer = result.runs.peer[index];
      return [
        String(index + 1),
        msToS(engine.ms),
        String(engine.peakRssMb),
        msToS(pipeline?.ms),
        msToS(pipeline?.uploadMs),
        msToS(pipeline?.handlerMs),
        msToS(pipeline?.goldMs),
        formatCount(pipeline?.silverRows ?? 0),
        formatCount(pipeline?.rejectedRows ?? 0),
        mb(pipeline?.peakRssMb ?? null),
        stepsText(pipeline?.stepsMs ?? null),
        peer?.available ? msToS(peer.ms) : 'unavailable',
        peer?.available ? String(peer.peakRssMb) : '',
      ];
    }),
    notes: [],
  };
}

function goldGrowthFilesTable(result: GoldGrowthResult): Table {
  return {
    title: 'Gold growth, every file',
    header: ['file', 'status', 'silver rows', 'rejected rows', 'handler s', 'gold s', 'pipeline s'],
    rows: result.files.map((file, index) => [
      String(index + 1),
      file.status,
      formatCount(file.silverRows),
      formatCount(file.rejectedRows),
      msToS(file.handlerMs),
      msToS(file.goldMs),
      msToS(file.pipelineMs),
    ]),
    notes: [],
  };
}

function coldStartRunsTable(result: ColdStartResult): Table {
  return {
    title: 'Cold start, every run',
    header: ['run', 'load ms', 'first ingestion ms', 'warm ingestion ms', 'peak RSS MB', 'statuses'],
    rows: result.runs.map((run, index) => [
      String(index + 1),
      String(run.loadModulesMs),
      String(run.firstIngestionMs),
      String(run.warmIngestionMs),
      String(run.peakRssMb),
      run.statuses.join(', '),
    ]),
    notes: [],
  };
}

/** `download 0.45 · stage 1.70 · …`: a run's handler steps in seconds, in the order they ran. */
function stepsText(stepsMs: Record<string, number> | null): string {
  if (!stepsMs) return '';
  return Object.entries(stepsMs)
    .map(([step, ms]) => `${step} ${(ms / 1000).toFixed(2)}`)
    .join(' · ');
}
