import { wholeNumber as atLeast, parseCommandLine, UsageError } from '@lakehouse/app/local/command-line';

export { UsageError };

export const SCENARIOS = ['comparison', 'gold-growth', 'cold-start', 'memory', 'chunks'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenarios: Scenario[];
  /** Size of the comparison file. */
  rows: number;
  /** Runs per step; the median is reported. */
  runs: number;
  /** The Lambda memory size the pipeline and DuckDB alone are sized for. */
  memoryMb: number;
  goldFiles: number;
  goldRows: number;
  memoryRows: number[];
  /** The chunks scenario's file size. */
  chunkRows: number;
}

export const USAGE = `pnpm bench [options]

  --scenarios LIST    comma list of ${SCENARIOS.join(', ')}
                      (default comparison,gold-growth,cold-start; memory and chunks are slow, so opt-in)
  --rows N            comparison file size in trips (default 5000000)
  --runs N            runs per step, median reported (default 3)
  --memory-mb N       Lambda memory size DuckDB is sized for (default 2048)
  --gold-files N      gold-growth: files uploaded one after another (default 12)
  --gold-rows N       gold-growth: new trips per file (default 400000)
  --memory-rows LIST  memory: file sizes in trips (default 5000000,20000000)
  --chunk-rows N      chunks: file size in trips, whole vs --chunk-mb 64 --chunk-concurrency 2 (default 10000000)
  -h, --help          this help`;

/** The command line (`--help` prints USAGE and exits; a wrong option exits 2). */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const values = parseCommandLine(
    USAGE,
    {
      scenarios: { type: 'string', default: 'comparison,gold-growth,cold-start' },
      rows: { type: 'string', default: '5000000' },
      runs: { type: 'string', default: '3' },
      'memory-mb': { type: 'string', default: '2048' },
      'gold-files': { type: 'string', default: '12' },
      'gold-rows': { type: 'string', default: '400000' },
      'memory-rows': { type: 'string', default: '5000000,20000000' },
      'chunk-rows': { type: 'string', default: '10000000' },
    },
    argv,
  );
  return {
    scenarios: list(values.scenarios).map(scenario),
    rows: wholeNumber('--rows', values.rows),
    runs: wholeNumber('--runs', values.runs),
    memoryMb: wholeNumber('--memory-mb', values['memory-mb']),
    goldFiles: wholeNumber('--gold-files', values['gold-files']),
    goldRows: wholeNumber('--gold-rows', values['gold-rows']),
    memoryRows: list(values['memory-rows']).map((raw) => wholeNumber('--memory-rows', raw)),
    chunkRows: wholeNumber('--chunk-rows', values['chunk-rows']),
  };
}

const list = (raw: string) =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function scenario(name: string): Scenario {
  if (!(SCENARIOS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown scenario ${name}; pick from ${SCENARIOS.join(', ')}`);
  }
  return name as Scenario;
}

const wholeNumber = (option: string, raw: string) => atLeast(option, raw, 1);

/** The command as a reader would type it again. */
export const commandLine = (argv: readonly string[]) =>
  ['pnpm bench', ...argv.filter((arg, index) => !(index === 0 && arg === '--'))].join(' ');
