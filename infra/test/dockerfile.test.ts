import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INGEST_COMMAND } from '@lakehouse/contract';
import { APP_DIR } from './support/synth';

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

describe('app/Dockerfile', () => {
  const dockerfile = readFileSync(join(APP_DIR, 'Dockerfile'), 'utf8');
  const steps = instructions(dockerfile);
  const stages = steps.filter((s) => s.keyword === 'FROM');
  const finalStage = steps.slice(steps.lastIndexOf(stages[stages.length - 1] as Instruction));

  it('is multi-stage, every stage on the Lambda Node.js 22 base image pinned by digest', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const baseImage = steps.find((s) => s.keyword === 'ARG' && s.args.startsWith('BASE_IMAGE='));
    expect(steps.indexOf(baseImage as Instruction)).toBeLessThan(steps.indexOf(stages[0] as Instruction));
    // A digest, not a tag: the tag moves with every AWS patch release, the digest names one image index.
    expect(baseImage?.args).toMatch(/^BASE_IMAGE=public\.ecr\.aws\/lambda\/nodejs:22@sha256:[0-9a-f]{64}$/);
    for (const stage of stages) expect(stage.args).toMatch(/^\$\{BASE_IMAGE\}(\s+AS\s+\S+)?$/i);
  });

  it('installs the production native dependencies inside Linux from the lockfile, in a build stage', () => {
    const buildSteps = steps.slice(0, steps.indexOf(stages[stages.length - 1] as Instruction));
    expect(buildSteps).toContainEqual({ keyword: 'COPY', args: 'dist/package.json dist/package-lock.json ./' });
    const install = buildSteps.filter((s) => s.keyword === 'RUN' && /\bnpm\b/.test(s.args));
    expect(install).toHaveLength(1);
    // `npm ci` installs exactly the lockfile (and fails if package.json disagrees); `npm install` would resolve anew.
    expect(install[0]?.args).toMatch(/^npm ci --omit=dev\b/);
    expect(dockerfile).not.toMatch(/--no-package-lock|npm install/);
    expect(finalStage.some((s) => s.keyword === 'COPY' && /--from=\S+ .*node_modules/.test(s.args))).toBe(true);
    // The host's node_modules (other platform's bindings) never reaches the image.
    expect(finalStage.some((s) => s.keyword === 'RUN' && /npm|pnpm/.test(s.args))).toBe(false);
  });

  it('copies the bundle and its transforms into the task root', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable
    expect(finalStage).toContainEqual({ keyword: 'COPY', args: 'dist/ ${LAMBDA_TASK_ROOT}/' });
  });

  it('names the exported ingestion handler in CMD (the contract)', () => {
    const cmd = steps.filter((s) => s.keyword === 'CMD');
    expect(cmd).toHaveLength(1);
    expect(JSON.parse(cmd[0]?.args ?? '')).toEqual([INGEST_COMMAND]);
  });

  it('bakes no AWS credentials into the image', () => {
    for (const step of steps.filter((s) => s.keyword === 'ARG' || s.keyword === 'ENV')) {
      expect(step.args).not.toMatch(/AWS_(ACCESS_KEY|SECRET|SESSION_TOKEN)/i);
    }
    expect(dockerfile).not.toMatch(/AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/);
  });

  it('sets HOME under /tmp, the only writable path on Lambda', () => {
    expect(finalStage).toContainEqual({ keyword: 'ENV', args: 'HOME=/tmp' });
  });

  it('uses no BuildKit-only syntax: the Engine API may build it with the classic builder', () => {
    expect(dockerfile).not.toMatch(/--mount=|--chmod=|--link\b|<<\s*\w+|^# syntax=/m);
  });
});
