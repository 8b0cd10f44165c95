/**
 * Writes the stack as plain Terraform HCL (`cdktf synth --hcl`), made portable:
 * the build context and the local state file are named relative to the output
 * folder instead of by this machine's absolute paths. Terraform run in that
 * folder manages the same resources, at the same addresses, in the same state
 * as `pnpm stack:deploy`: a way out of CDKTF (archived upstream) without a rewrite.
 *
 *   pnpm synth:hcl [--out DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { callerPath, exitWithUsageError, parseCommandLine, UsageError } from '../../app/local/command-line';
import { STACK_NAME } from '../src/lakehouse-stack';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const DEFAULT_OUT_DIR = join(REPO_ROOT, 'terraform');

const USAGE = `pnpm synth:hcl [--out DIR]

Writes the lakehouse stack as plain Terraform (DIR/main.tf), the same resources
at the same addresses as the CDKTF stack, with paths relative to DIR. Needs
neither Terraform nor Docker nor AWS credentials.

  --out DIR    where to write main.tf (default: terraform/ at the repository root)
  -h, --help   this help`;

/**
 * Absolute paths of this checkout become paths relative to `outDir`: the local
 * backend's state file relative to the folder Terraform runs in (a backend
 * block takes no expressions), everything else relative to `path.module`.
 */
export function relocatePaths(hcl: string, repoRoot: string, outDir: string): string {
  const toRoot = relative(outDir, repoRoot).split('\\').join('/') || '.';
  const root = repoRoot.split('\\').join('/');
  const relocated = hcl
    .split('\n')
    .map((line) =>
      /^\s*path\s*=/.test(line)
        ? line.split(`"${root}/`).join(`"${toRoot}/`)
        : line.split(`"${root}/`).join(`"\${path.module}/${toRoot}/`),
    )
    .join('\n');
  if (relocated.includes(`"${root}/`)) throw new Error(`an absolute path under ${root} is left in the HCL`);
  return relocated;
}

/** Synthesizes the stack as HCL into `outDir`/main.tf; returns its path. */
export function synthHcl(outDir: string): string {
  const scratch = mkdtempSync(join(tmpdir(), 'synth-hcl-'));
  try {
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'cdktf'), ['synth', '--hcl', '--output', scratch], {
      cwd: REPO_ROOT,
      env: { ...process.env, CHECKPOINT_DISABLE: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const hcl = readFileSync(join(scratch, 'stacks', STACK_NAME, 'cdk.tf'), 'utf8');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, 'main.tf');
    writeFileSync(file, relocatePaths(hcl, REPO_ROOT, outDir));
    return file;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    const { out } = parseCommandLine(USAGE, { out: { type: 'string' } });
    const file = synthHcl(out ? callerPath(out) : DEFAULT_OUT_DIR);
    console.log(`wrote ${relative(process.env.INIT_CWD ?? process.cwd(), file)}`);
  } catch (error) {
    if (error instanceof UsageError) exitWithUsageError(error);
    console.error((error as Error).message);
    process.exit(1);
  }
}
