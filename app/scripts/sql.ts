/**
 * Runs SQL in DuckDB on local files and prints the result as a table:
 * `pnpm sql "select * from 'day.parquet' limit 5"`. Paths in the SQL are
 * relative to where pnpm was run.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { exitWithUsageError, parseCommandLine, UsageError } from '../local/command-line';
import { table } from '../local/terminal';

const USAGE = `pnpm sql "<query>"

Runs one SQL query in DuckDB (parquet, json and csv readers built in) and prints
the rows as a table; file paths in the query are relative to where you run pnpm.

  pnpm sql "select * from 'day.parquet' order by fare_total desc limit 5"

  -h, --help   this help`;

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--'));
  parseCommandLine(
    USAGE,
    {},
    args.filter((arg) => arg.startsWith('-')),
  );
  const sql = args.filter((arg) => !arg.startsWith('-')).join(' ');
  if (!sql.trim()) throw new UsageError('give the query as one argument, in quotes');
  process.chdir(process.env.INIT_CWD ?? process.cwd());
  const connection = await (await DuckDBInstance.create()).connect();
  const reader = await connection.runAndReadAll(sql);
  // JSON values are text for every type, so numbers print as written, not quoted.
  const rows = reader.getRowsJson().map((row) => row.map((value) => (value === null ? 'NULL' : String(value))));
  console.log(table(reader.columnNames(), rows));
  console.log(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
}

main().catch((error: Error) => {
  if (error instanceof UsageError) exitWithUsageError(error);
  console.error(error.message);
  process.exit(1);
});
