import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A mistake on the command line: one line saying what is wrong, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The exit code of a wrong command line. */
export const USAGE_EXIT_CODE = 2;

/**
 * The command line of a script: `--help` prints `usage` and exits 0; an
 * unknown option or a missing value prints one line and exits 2, instead of
 * Node's stack trace. pnpm may pass a lone `--` ahead of the script's own arguments.
 */
export function parseCommandLine<T extends Options>(
  usage: string,
  options: T,
  argv: readonly string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: false }>>['values'] {
  return parseCommandLineWithArguments(usage, options, argv, { positionals: false }).values;
}

/** The same, for a command that also takes arguments (`pnpm query "SQL"`): its options and its arguments. */
export function parseCommandLineWithArguments<T extends Options>(
  usage: string,
  options: T,
  argv: readonly string[] = process.argv.slice(2),
  { positionals = true }: { positionals?: boolean } = {},
): { values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>>['values']; positionals: string[] } {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (error) {
    // Node adds how to pass an argument that starts with `-`: noise for a mistyped option.
    const message = (error as Error).message.split('\n')[0]?.replace(/\. To specify a positional argument.*$/, '');
    return exitWithUsageError(new UsageError(message ?? String(error)));
  }
}

export function exitWithUsageError(error: UsageError): never {
  process.stderr.write(`error: ${error.message}\nRun with --help for the options.\n`);
  process.exit(USAGE_EXIT_CODE);
}

/** A whole number option (at least `min`), or a usage error naming it. */
export function wholeNumber(option: string, raw: string, min = 0): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${option} takes a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${raw}"`);
  }
  return value;
}

/** A path the user typed, relative to the folder they ran pnpm from (pnpm runs scripts elsewhere). */
export function callerPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}
