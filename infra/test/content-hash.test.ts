import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildContextFiles, hashBuildContext, isIgnored, parseDockerignore } from '../src/content-hash';
import { APP_DIR } from './support/synth';

/** A build context laid out like app/, with the real Dockerfile and .dockerignore. */
function fixtureContext(): string {
  const dir = mkdtempSync(join(tmpdir(), 'image-context-'));
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  copyFileSync(join(APP_DIR, 'Dockerfile'), join(dir, 'Dockerfile'));
  copyFileSync(join(APP_DIR, '.dockerignore'), join(dir, '.dockerignore'));
  write('dist/index.js', 'exports.handler = async () => {};\n');
  write('dist/package.json', '{"dependencies":{"@duckdb/node-api":"1.5.6-r.1"}}\n');
  write('dist/package-lock.json', '{"lockfileVersion":3,"packages":{}}\n');
  write('dist/transforms/trips/silver.sql', 'select 1 as one\n');
  write('src/handler.ts', 'export const handler = 1;\n');
  write('node_modules/x/index.js', 'module.exports = 1;\n');
  write('package.json', '{"name":"app"}\n');
  return dir;
}

describe('hashBuildContext', () => {
  const dirs: string[] = [];
  const context = () => {
    const dir = fixtureContext();
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('is stable: the same inputs, anywhere on disk, give the same hash', () => {
    const a = context();
    const b = context();
    expect(hashBuildContext(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashBuildContext(a)).toBe(hashBuildContext(a));
    expect(hashBuildContext(b)).toBe(hashBuildContext(a));
  });

  it.each([
    ['the bundled sources', 'dist/index.js'],
    ['the SQL', 'dist/transforms/trips/silver.sql'],
    ['the native dependencies', 'dist/package.json'],
    ['the native dependencies lockfile', 'dist/package-lock.json'],
    ['the Dockerfile', 'Dockerfile'],
    ['the .dockerignore', '.dockerignore'],
  ])('changes when %s change', (_what, file) => {
    const dir = context();
    const before = hashBuildContext(dir);
    writeFileSync(join(dir, file), '\n# changed\n', { flag: 'a' });
    expect(hashBuildContext(dir)).not.toBe(before);
  });

  it('changes when a file is added to the context, or made executable', () => {
    const dir = context();
    const before = hashBuildContext(dir);
    writeFileSync(join(dir, 'dist', 'extra.js'), '1;\n');
    const added = hashBuildContext(dir);
    expect(added).not.toBe(before);
    chmodSync(join(dir, 'dist', 'extra.js'), 0o755);
    expect(hashBuildContext(dir)).not.toBe(added);
  });

  it.each([
    ['a source file (it reaches the image through the bundle)', 'src/handler.ts'],
    ['node_modules (host-platform binaries)', 'node_modules/x/index.js'],
    ['the app package.json', 'package.json'],
  ])('ignores %s: .dockerignore keeps it out of the context', (_what, file) => {
    const dir = context();
    const before = hashBuildContext(dir);
    writeFileSync(join(dir, file), '// changed\n', { flag: 'a' });
    writeFileSync(join(dir, 'README.md'), 'new\n');
    expect(hashBuildContext(dir)).toBe(before);
  });

  it('hashes exactly what the real app/ context sends: the Dockerfile, .dockerignore and dist/', () => {
    for (const file of buildContextFiles(APP_DIR)) {
      expect(['Dockerfile', '.dockerignore'].includes(file) || file.startsWith('dist/')).toBe(true);
    }
    expect(buildContextFiles(context()).sort()).toEqual([
      '.dockerignore',
      'Dockerfile',
      'dist/index.js',
      'dist/package-lock.json',
      'dist/package.json',
      'dist/transforms/trips/silver.sql',
    ]);
  });
});

describe('.dockerignore matching', () => {
  const rules = parseDockerignore(['# comment', '', '**/*.map', 'build/', '!build/keep.txt', '/secret*'].join('\n'));

  it.each([
    ['a.map', true],
    ['deep/er/x.map', true],
    ['build/out.js', true],
    ['build/keep.txt', false],
    ['secret.env', true],
    ['sub/secret.env', false],
    ['src/index.ts', false],
  ])('%s ignored: %s', (path, ignored) => {
    expect(isIgnored(path, rules)).toBe(ignored);
  });
});
