import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '@lakehouse/contract';
import { type Config, loadConfig } from '../src/config';
import {
  clientsFor,
  type Deployment,
  type DeploymentClients,
  deploymentFromOutputs,
  destroyClients,
  localDeployment,
  StackOutputsError,
} from '../src/replay/deployment';
import { callerPath, exitWithUsageError, UsageError } from './command-line';
import { DEFAULT_PORT, REPO_ROOT } from './local-lakehouse';

/** The options every replay command takes to say where the lakehouse is. */
export const DEPLOYMENT_OPTIONS = {
  endpoint: { type: 'string' },
  aws: { type: 'boolean', default: false },
  outputs: { type: 'string' },
} as const;

export const DEPLOYMENT_USAGE = `  --endpoint URL    the local lakehouse of pnpm dev (default http://127.0.0.1:${DEFAULT_PORT}, or LAKEHOUSE_PORT)
  --aws             the deployed stack instead, with your AWS credentials and region;
                    names from its outputs (terraform output -json in cdktf.out/stacks/lakehouse)
  --outputs FILE    with --aws: outputs written by
                    pnpm exec cdktf output lakehouse --outputs-file FILE`;

const STACK_DIR = join(REPO_ROOT, 'cdktf.out', 'stacks', 'lakehouse');

export function deploymentFrom(values: { endpoint?: string; aws?: boolean; outputs?: string }): Deployment {
  if (values.aws && values.endpoint) throw new UsageError('--endpoint and --aws exclude each other');
  if (values.outputs && !values.aws) throw new UsageError('--outputs goes with --aws');
  if (!values.aws) {
    const endpoint = values.endpoint ?? `http://127.0.0.1:${process.env.LAKEHOUSE_PORT ?? DEFAULT_PORT}`;
    try {
      return localDeployment(new URL(endpoint).toString().replace(/\/$/, ''));
    } catch {
      throw new UsageError(`--endpoint takes a URL, got "${endpoint}"`);
    }
  }
  if (values.outputs) return deploymentFromOutputs(JSON.parse(readFileSync(callerPath(values.outputs), 'utf8')));
  let printed: string;
  try {
    printed = execFileSync('terraform', ['output', '-json'], { cwd: STACK_DIR, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    throw new StackOutputsError(
      `could not read the stack's outputs with terraform in ${STACK_DIR} (${(error as Error).message.split('\n')[0]}); ` +
        'write them with `pnpm exec cdktf output lakehouse --outputs-file outputs.json` and pass --outputs outputs.json',
    );
  }
  return deploymentFromOutputs(JSON.parse(printed));
}

/**
 * Runs a replay command's work with the deployment's clients and a
 * configuration for running the function's code here (DuckDB in a temp folder).
 */
export async function withDeployment<T>(
  deployment: Deployment,
  work: (clients: DeploymentClients, cfg: Config) => Promise<T>,
): Promise<T> {
  const workDir = await mkdtemp(join(tmpdir(), 'lakehouse-replay-'));
  const clients = clientsFor(deployment);
  try {
    const cfg = loadConfig({
      [ENV.silverBucket]: deployment.buckets.silver,
      [ENV.goldBucket]: deployment.buckets.gold,
      [ENV.workDir]: workDir,
    });
    return await work(clients, cfg);
  } finally {
    destroyClients(clients);
    await rm(workDir, { recursive: true, force: true });
  }
}

/** A line for errors the user can act on: no lakehouse listening, no stack outputs, no credentials. */
export function explainFailure(error: Error, deployment?: Deployment): string {
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code;
  if (deployment?.endpoint && (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(error.message))) {
    return `no lakehouse answers at ${deployment.endpoint}: start it with pnpm dev (or pass --endpoint)`;
  }
  if (error instanceof StackOutputsError) return error.message;
  return error.stack ?? error.message;
}

/** `--since`: a date or date-time DuckDB and JavaScript agree on (ISO 8601). */
export function sinceFrom(raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`--since takes a date (ISO 8601, e.g. 2026-01-15), got "${raw}"`);
  return date;
}

/**
 * Runs a replay command (reconcile, redrive, backfill) and exits with its code: a command-line
 * mistake exits 2 with one line, any other failure 1 with what went wrong where (`deployment`).
 */
export function runReplayCommand(main: () => Promise<number>, deployment: () => Deployment | undefined): void {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      if (error instanceof UsageError) exitWithUsageError(error);
      console.error(explainFailure(error, deployment()));
      process.exit(1);
    },
  );
}
