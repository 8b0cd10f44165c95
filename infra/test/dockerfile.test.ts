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

  it('is multi-stage, every stage on the Lambda Node.js 22 base image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.args).toMatch(/^public\.ecr\.aws\/lambda\/nodejs:22(\s+AS\s+\S+)?$/i);
  });

  it('installs the production native dependencies inside Linux, in a build stage', () => {
    const buildSteps = steps.slice(0, steps.indexOf(stages[stages.length - 1] as Instruction));
    expect(buildSteps.some((s) => s.keyword === 'RUN' && /npm (install|ci)\b.*--omit=dev/.test(s.args))).toBe(true);
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

  it('uses no BuildKit-only syntax: the classic builder (single-manifest push) must build it', () => {
    expect(dockerfile).not.toMatch(/--mount=|--chmod=|--link\b|<<\s*\w+|^# syntax=/m);
  });
});
