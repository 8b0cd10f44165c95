/**
 * The benchmark: the pipeline end to end beside DuckDB alone and a Node peer
 * (nodejs-polars) on the same generated file, then gold growth, cold start,
 * and (opt-in) memory as files grow and one file whole against in chunks.
 * Figures go to bench/results/.
 *
 *   pnpm bench [--scenarios comparison,gold-growth,cold-start,memory,chunks] [--rows 5000000] [--runs 3]
 *              [--memory-mb 2048] [--gold-files 12] [--gold-rows 400000] [--memory-rows 5000000,20000000]
 *              [--chunk-rows 10000000]
 *
 * Exits non-zero when a pipeline run does not end `ingested`, gold is not exact, or whole and chunked differ.
 */

import { exitWithUsageError } from '@lakehouse/app/local/command-line';
import { bold, dim } from '@lakehouse/app/local/terminal';
import { duckdbSizingForLambda } from './lambda-duckdb';
import { describeMachine, machineLine } from './machine';
import { commandLine, parseBenchOptions, UsageError } from './options';
import { consoleReport, writeResults } from './report';
import { failuresOf } from './results';
import { runScenarios } from './run-scenarios';
import { TripsFiles } from './trips-files';

async function main(): Promise<void> {
  // The bench's own S3 client (uploads, listings) would print the SDK's notice about Node 20; Lambda runs 22.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const argv = process.argv.slice(2);
  const options = parseBenchOptions(argv);
  const startedAt = new Date().toISOString();
  const sizing = duckdbSizingForLambda(options.memoryMb);
  const machine = describeMachine(options.memoryMb, sizing);
  console.log(`${bold('Benchmark')}: ${options.scenarios.join(', ')}`);
  console.log(dim(`${machineLine(machine)}\n`));

  const trips = await TripsFiles.create();
  try {
    const scenarios = await runScenarios(options, sizing, trips);
    const measured = {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: commandLine(argv),
      options,
      machine,
      ...scenarios,
    };
    const results = { ...measured, failures: failuresOf(measured) };
    console.log(`\n${consoleReport(results)}\n`);
    for (const path of await writeResults(results)) console.log(dim(`written ${path}`));
    if (results.failures.length) process.exitCode = 1;
  } finally {
    await trips.remove();
  }
}

// Exiting runs the exit handlers that stop the lakehouse children (in their own
// process groups, Ctrl-C does not reach them) and remove the scratch folders.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

main().catch((error: Error) => {
  if (error instanceof UsageError) exitWithUsageError(error);
  console.error(error.stack ?? error.message);
  process.exit(1);
});
