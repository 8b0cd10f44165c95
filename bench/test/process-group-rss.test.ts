import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { measureGroupPeakRss } from '../src/process-group-rss';

const SPIKE_MB = 256;

/**
 * A detached process (so the leader of its own group, as the bench starts the
 * lakehouse) that, on each line it reads, holds SPIKE_MB for 50 ms in a worker
 * thread, then answers once the worker is gone and its memory with it.
 */
const SPIKY = `
  const { Worker } = require('node:worker_threads');
  const hold = "const b = Buffer.alloc(${SPIKE_MB} * 1024 * 1024, 1); setTimeout(() => process.exit(0), 50);";
  process.stdin.on('data', () => new Worker(hold, { eval: true }).on('exit', () => process.stdout.write('done\\n')));
`;

describe('the peak RSS of a process group over a step', () => {
  let child: ChildProcessWithoutNullStreams;
  const spike = async () => {
    child.stdin.write('spike\n');
    await once(child.stdout, 'data');
  };

  beforeEach(async () => {
    child = spawn(process.execPath, ['-e', SPIKY], { detached: true });
    await sleep(300);
  });

  afterEach(() => {
    child.kill('SIGKILL');
  });

  it('holds a peak far shorter than a sampling interval', async () => {
    const peak = await measureGroupPeakRss(child.pid as number);
    await spike();
    expect(await peak.stop()).toBeGreaterThanOrEqual(SPIKE_MB);
  });

  it('counts from the start of the step: a peak before it does not count', async () => {
    await spike();
    const peak = await measureGroupPeakRss(child.pid as number);
    await sleep(100);
    expect(await peak.stop()).toBeLessThan(SPIKE_MB / 2);
  });
});
