// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from '@cdktf/hcl2json';
import { relocatePaths } from '../scripts/synth-hcl';
import { APP_DIR, type Json, REPO_ROOT, synthLakehouse } from './support/synth';

const run = promisify(execFile);

/** Every block address of a Terraform document (JSON synth or parsed HCL): resource, data, variable, output. */
function addresses(doc: Json): string[] {
  const blocks = (kind: string, nested: boolean) =>
    Object.entries((doc[kind] ?? {}) as Json).flatMap(([type, byName]) =>
      nested ? Object.keys(byName as Json).map((name) => `${kind}.${type}.${name}`) : [`${kind}.${type}`],
    );
  return [
    ...blocks('resource', true),
    ...blocks('data', true),
    ...blocks('variable', false),
    ...blocks('output', false),
  ].sort();
}

describe('pnpm synth:hcl: the stack as plain Terraform HCL, a way out of CDKTF', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'synth-hcl-test-'));
  const outDir = join(scratch, 'exported');
  let hcl: string;
  let parsed: Json;

  beforeAll(async () => {
    await run(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'infra', 'scripts', 'synth-hcl.ts'), '--out', outDir],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, INIT_CWD: REPO_ROOT },
      },
    );
    hcl = readFileSync(join(outDir, 'main.tf'), 'utf8');
    // A real HCL parser (HashiCorp's, compiled to wasm): every block and expression must be valid HCL.
    parsed = (await parse('main.tf', hcl)) as Json;
  }, 120_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('parses as HCL and declares the same resources, data sources, variables and outputs as the CDKTF synth', () => {
    const synthesized = synthLakehouse().json;
    expect(addresses(parsed)).toEqual(addresses(synthesized));
    expect(addresses(parsed).length).toBeGreaterThan(50);
  });

  it('contains every function, from the image pinned by digest', () => {
    const functions = Object.values(parsed.resource.aws_lambda_function as Json).map((blocks) => (blocks as Json[])[0]);
    expect(functions.map((fn) => fn?.function_name).sort()).toEqual([
      '${var.lambda_name}',
      '${var.lambda_name}_chunks',
      '${var.lambda_name}_gold',
      '${var.lambda_name}_reconcile',
    ]);
    for (const fn of functions) expect(fn?.image_uri).toMatch(/@\$\{docker_registry_image\.\S+\.sha256_digest\}$/);
  });

  it('keeps the policies as JSON documents with their references (heredocs, not broken one-line strings)', () => {
    const policies = Object.values(parsed.resource.aws_iam_role_policy as Json).map((blocks) => (blocks as Json[])[0]);
    const ingest = policies.find((policy) => policy?.name === 'policy_lambda_duckdb');
    const document = JSON.parse(ingest?.policy);
    expect(document.Statement.map((s: Json) => s.Sid)).toContain('ReadRawObjects');
    expect(JSON.stringify(document)).toMatch(/\$\{aws_s3_bucket\.storage_raw_\w+\.arn\}\/\*/);
  });

  it('keeps the chunk state machine definition as JSON with its references, MaxConcurrency a number', () => {
    const [machine] = Object.values(parsed.resource.aws_sfn_state_machine as Json).map(
      (blocks) => (blocks as Json[])[0],
    );
    const definition = JSON.parse(String(machine?.definition).replace('${var.chunk_max_concurrency}', '20'));
    expect(definition.States.Chunks.MaxConcurrency).toBe(20);
    expect(definition.States.Commit.Parameters.FunctionName).toMatch(
      /^\$\{aws_lambda_function\.chunks_chunk_function_\w+\.arn\}$/,
    );
  });

  it('names the build context and the local state file relative to the output folder, not by absolute paths', () => {
    expect(hcl).not.toContain(`"${REPO_ROOT}/`);
    const image = Object.values(parsed.resource.docker_image as Json)[0] as Json[];
    const context = image[0]?.build[0].context as string;
    expect(context).toMatch(/^\$\{path\.module\}\//);
    expect(resolve(outDir, context.replace('${path.module}/', ''))).toBe(APP_DIR);
    // The same state file as `pnpm stack:deploy`: Terraform run in the output folder finds the deployed resources.
    const statePath = parsed.terraform[0].backend.local[0].path as string;
    expect(resolve(outDir, statePath)).toBe(join(REPO_ROOT, 'terraform.lakehouse.tfstate'));
  });
});

describe('relocatePaths', () => {
  const hcl = [
    '  backend "local" {',
    '    path = "/repo/terraform.lakehouse.tfstate"',
    '  }',
    '  context = "/repo/app"',
  ].join('\n');

  it('rewrites the backend path relative to the working folder and other paths relative to path.module', () => {
    expect(relocatePaths(hcl, '/repo', '/repo/terraform').split('\n')).toEqual([
      '  backend "local" {',
      '    path = "../terraform.lakehouse.tfstate"',
      '  }',
      '  context = "${path.module}/../app"',
    ]);
  });

  it('works for an output folder outside the repository', () => {
    expect(relocatePaths(hcl, '/repo', '/elsewhere/tf')).toContain('context = "${path.module}/../../repo/app"');
  });
});
