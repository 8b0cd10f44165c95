import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { silverKey } from '@lakehouse/contract';
import { localClientConfig } from '@lakehouse/local-s3';
import { startLocalLakehouse } from '../../local/local-lakehouse';
import { loadConfig } from '../../src/config';
import { listKeys } from '../../src/io/s3-io';
import { listRawObjects, versionOf } from '../../src/replay/raw-objects';
import { pnpm, run, until } from '../support/commands';
import { objectStamps, rowsUnder, tripsFile, uploadAndWait } from '../support/zones';

/** Ten files of 60 trips, each sharing 30 with the next. */
const FILES = Array.from({ length: 10 }, (_, i) => [`trips/batch-${i}.csv`, tripsFile(i * 30, i * 30 + 60)] as const);

const endpointOf = (stderr: string) => /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] as string;
const outcomes = (stdout: string) => stdout.split('\n').filter((line) => line.includes('"status"')).length;

describe('pnpm dev killed mid-batch, restarted, reconciled', () => {
  let home: string;
  const kill = (child: ReturnType<typeof pnpm>) => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL');
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'crash-recovery-'));
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('leaves every raw object once in silver, gold as an uninterrupted run, and a second reconcile changes nothing', async () => {
    const dev = pnpm(['dev', '--port', '0', '--data-dir', 'lake', '--concurrency', '1'], home);
    let restarted: ReturnType<typeof pnpm> | undefined;
    try {
      await until(() => dev.err().includes('Ctrl-C stops'), 'the banner');
      const client = new S3Client(localClientConfig(endpointOf(dev.err())));
      await Promise.all(FILES.map(([Key, Body]) => client.send(new PutObjectCommand({ Bucket: 'raw', Key, Body }))));
      client.destroy();
      await until(() => outcomes(dev.out()) > 0, 'a first outcome');
      // The whole process group, as a crash or an OOM kill would end it: no handler gets to clean up.
      process.kill(-(dev.pid as number), 'SIGKILL');
      await once(dev, 'exit');
      expect(outcomes(dev.out())).toBeLessThan(FILES.length);

      restarted = pnpm(['dev', '--port', '0', '--data-dir', 'lake'], home);
      const again = restarted;
      await until(() => again.err().includes('Left behind by an earlier run'), 'the notice of what was left behind');
      const notice = /(\d+) raw object\(s\) have no outcome .* and (\d+) silver file\(s\) are not in gold/.exec(
        again.err(),
      );
      expect(Number(notice?.[1]) + Number(notice?.[2])).toBeGreaterThan(0);
      expect(again.err()).toContain('run `pnpm reconcile`');
      const endpoint = endpointOf(again.err());

      const first = await run(['reconcile', '--endpoint', endpoint, '--wait', '60']);
      // The whole output on failure: it says what was still left behind, or the error.
      expect(first).toMatchObject({
        code: 0,
        out: expect.stringContaining('done: every replayed object now has its outcome, and gold has every silver file'),
      });

      const lake = new S3Client(localClientConfig(endpoint));
      const stamps = async () => [
        ...(await objectStamps(lake, 'raw')),
        ...(await objectStamps(lake, 'silver')),
        ...(await objectStamps(lake, 'gold')),
      ];
      const settled = await stamps();
      const second = await run(['reconcile', '--endpoint', endpoint]);
      expect(second).toMatchObject({ code: 0 });
      expect(second.out).toContain('  0 with neither a silver output nor a quarantine record');
      expect(second.out).toContain('  0 silver file(s) gold has not applied');
      expect(await stamps()).toEqual(settled);

      // Every raw object once in silver: its own silver object, and its rows once.
      const raws = await listRawObjects(lake, 'raw');
      expect((await listKeys(lake, 'silver', 'trips/')).sort()).toEqual(
        raws.map((raw) => silverKey(raw.key, versionOf(raw))).sort(),
      );
      const cfg = loadConfig({
        SILVER_BUCKET: 'silver',
        GOLD_BUCKET: 'gold',
        WORK_DIR: await mkdtemp(join(home, 'read-')),
      });
      const silverRows = (await rowsUnder(lake, cfg, 'silver', 'trips/')) as Array<{ _source_key: string }>;
      expect(silverRows).toHaveLength(FILES.length * 60);
      const gold = await rowsUnder(lake, cfg, 'gold', 'trips/');
      lake.destroy();

      const uninterrupted = await startLocalLakehouse({
        port: 0,
        dataDir: join(home, 'uninterrupted', 's3'),
        log: () => {},
      });
      try {
        const fresh = uninterrupted.client();
        for (const [key, body] of FILES) await uploadAndWait(uninterrupted, fresh, key, body);
        expect(gold).toEqual(await rowsUnder(fresh, uninterrupted.cfg, 'gold', 'trips/'));
      } finally {
        await uninterrupted.stop();
      }
    } finally {
      kill(dev);
      if (restarted) kill(restarted);
    }
  });
});
