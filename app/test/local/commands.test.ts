import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localClientConfig } from '@lakehouse/local-s3';
import { pnpm, run, until } from '../support/commands';
import { trip, tripsCsv } from '../support/trips';

/** The script's own stderr lines, without the one pnpm adds for a failed script and its `$ command` echo. */
const ownLines = (stderr: string) =>
  stderr.split('\n').filter((line) => line && !line.startsWith('$ ') && !line.includes('ELIFECYCLE'));

describe('commands: help, wrong flags, paths, Ctrl-C', () => {
  describe.each(['dev', 'demo', 'bench', 'generate-trips', 'sql', 'query', 'reconcile', 'redrive', 'backfill'])(
    'pnpm %s',
    (command) => {
      it('answers --help with its usage and exit code 0', async () => {
        const { code, out } = await run([command, '--help']);

        expect(code).toBe(0);
        expect(out).toContain(`pnpm ${command}`);
        expect(out).toContain('--help');
      });

      it('answers a wrong flag with one line saying what is wrong, and exit code 2', async () => {
        const { code, err } = await run([command, '--no-such-flag']);

        expect(code).toBe(2);
        expect(ownLines(err)).toEqual(["error: Unknown option '--no-such-flag'", 'Run with --help for the options.']);
        expect(err).not.toMatch(/ERR_PARSE_ARGS|at .*\(.*:\d+:\d+\)|ERR_PNPM/);
      });
    },
  );

  it('pnpm sql prints numbers as numbers, and reads paths relative to the folder it was run from', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'sql-here-'));
    try {
      await run(['generate-trips', '--rows', '3', '--out', 'three.csv'], cwd);
      const { code, out } = await run(
        ['sql', "select count(*) as trips, 3.25::decimal(18, 2) as fare_total from 'three.csv'"],
        cwd,
      );

      expect(code).toBe(0);
      expect(out.split('\n').filter(Boolean)).toEqual(['  trips  fare_total', '      3        3.25', '(1 row)']);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('pnpm generate-trips writes --out relative to the folder it was run from', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'generate-here-'));
    try {
      const { code } = await run(['generate-trips', '--rows', '5', '--out', 'five.csv'], cwd);

      expect(code).toBe(0);
      expect((await readFile(join(cwd, 'five.csv'), 'utf8')).trim().split('\n')).toHaveLength(6);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('pnpm demo --console keeps the lakehouse and its console open at the end, until Ctrl-C', async () => {
    const demo = pnpm(['demo', '--console']);
    try {
      await until(() => demo.out().includes('stay open'), 'the demo to finish', 60_000);
      const consoleUrl = /console stay open: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.out())?.[1] as string;
      const events = (await (await fetch(new URL('/api/events', consoleUrl))).json()) as Array<{ key: string }>;
      expect(events.map((event) => event.key)).toContain('trips/2026-01-15.csv');

      process.kill(-(demo.pid as number), 'SIGINT');
      const [code] = (await once(demo, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (demo.exitCode === null) process.kill(-(demo.pid as number), 'SIGKILL');
    }
  });

  it('pnpm dev: notes on stderr, JSON on stdout, work files inside --data-dir, --chunk-mb, and Ctrl-C ends quietly with 0', async () => {
    const home = await mkdtemp(join(tmpdir(), 'dev-ctrl-c-'));
    const dev = pnpm(['dev', '--port', '0', '--console-port', '0', '--data-dir', 'lake', '--chunk-mb', '1'], home);
    try {
      await until(() => dev.err().includes('Ctrl-C stops'), 'the banner');
      const endpoint = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(dev.err())?.[1] as string;
      // The banner names the web console and its URL, on loopback.
      const consoleUrl = /console on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(dev.err())?.[1] as string;
      expect(await (await fetch(consoleUrl)).text()).toContain('<title>Lakehouse console</title>');
      const client = new S3Client(localClientConfig(endpoint));
      await client.send(
        new PutObjectCommand({ Bucket: 'raw', Key: 'trips/one.csv', Body: tripsCsv([trip({ trip_id: 'a' })]) }),
      );
      await until(() => dev.out().includes('"trips/one.csv"'), 'the event line');
      // Above --chunk-mb: processed in chunks, which its event line reports with the totals.
      const month = tripsCsv(Array.from({ length: 40_000 }, (_, i) => trip({ trip_id: `m${i}` })));
      await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'trips/month.csv', Body: month }));
      await until(() => dev.out().includes('"trips/month.csv"'), 'the chunked event line');
      client.destroy();

      // Ctrl-C in a terminal signals the whole foreground process group: pnpm and the script.
      process.kill(-(dev.pid as number), 'SIGINT');
      const [code] = (await once(dev, 'exit')) as [number | null];

      expect(code).toBe(0);
      expect(dev.err()).toContain('→ trips/one.csv');
      expect(dev.err()).toContain('stopped');
      expect(dev.err()).not.toMatch(/ELIFECYCLE|ERR_PNPM|Command failed/);
      const lines = dev.out().trim().split('\n');
      expect(lines.map((line) => JSON.parse(line).status)).toEqual(['ingested', 'ingested']);
      expect(JSON.parse(lines[0] as string)).not.toHaveProperty('chunks');
      expect(JSON.parse(lines[1] as string)).toMatchObject({
        chunks: Math.ceil(month.length / 1024 ** 2),
        silverRows: 40_000,
        rejectedRows: 0,
      });
      expect(month.length).toBeGreaterThan(1024 ** 2);
      // The lakehouse keeps to the folder it was given: objects in lake/s3, work files in lake/work.
      expect(existsSync(join(home, 'lake', 's3', 'raw'))).toBe(true);
      expect(existsSync(join(home, 'lake', 'work'))).toBe(true);
      expect(existsSync(join(home, 'work'))).toBe(false);
    } finally {
      if (dev.exitCode === null) process.kill(-(dev.pid as number), 'SIGKILL');
      await rm(home, { recursive: true, force: true });
    }
  });
});
