import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { duckdb, duckdbOptions, withConnection } from '../../src/io/duckdb';

describe('DuckDB set-up for Lambda', () => {
  let workDir: string;
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'duckdb-test-'));
  });
  afterAll(() => rm(workDir, { recursive: true, force: true }));

  it('keeps home, spill and extension directories under the work dir and never downloads extensions', async () => {
    const cfg = loadConfig({
      SILVER_BUCKET: 's',
      GOLD_BUCKET: 'g',
      WORK_DIR: workDir,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
    });
    const options = duckdbOptions(cfg);
    expect(options).toMatchObject({
      home_directory: join(workDir, 'duckdb', 'home'),
      temp_directory: join(workDir, 'duckdb', 'spill'),
      extension_directory: join(workDir, 'duckdb', 'extensions'),
      memory_limit: '1024MB',
      autoinstall_known_extensions: 'false',
    });
  });

  it('creates one instance per container and reuses it', async () => {
    const cfg = loadConfig({ SILVER_BUCKET: 's', GOLD_BUCKET: 'g', WORK_DIR: workDir });
    expect(await duckdb(cfg)).toBe(await duckdb(cfg));
    const settings = await withConnection(cfg, async (connection) =>
      (
        await connection.runAndReadAll(
          "select name, value from duckdb_settings() where name in ('home_directory', 'autoinstall_known_extensions') order by name",
        )
      ).getRowObjectsJS(),
    );
    expect(settings).toEqual([
      { name: 'autoinstall_known_extensions', value: 'false' },
      { name: 'home_directory', value: join(workDir, 'duckdb', 'home') },
    ]);
  });

  it('reads Parquet and JSON without downloading anything', async () => {
    const cfg = loadConfig({ SILVER_BUCKET: 's', GOLD_BUCKET: 'g', WORK_DIR: workDir });
    const loaded = await withConnection(cfg, async (connection) =>
      (
        await connection.runAndReadAll(
          "select extension_name from duckdb_extensions() where loaded and extension_name in ('parquet', 'json') order by 1",
        )
      ).getRowObjectsJS(),
    );
    expect(loaded).toEqual([{ extension_name: 'json' }, { extension_name: 'parquet' }]);
  });
});
