import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { DatasetTables } from '../../app/src/catalog/table-schemas';

/**
 * The tables every dataset of `appDir`/transforms writes, with their columns,
 * (or of `transformsDir`), as the app's own transform describes them
 * (app/scripts/describe-tables.ts).
 * A child process: DuckDB answers asynchronously, and a stack is built synchronously.
 */
export function describeTransformTables(appDir: string, transformsDir?: string): DatasetTables[] {
  const script = join(appDir, 'scripts', 'describe-tables.ts');
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', script, ...(transformsDir ? [transformsDir] : [])],
    {
      cwd: appDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(output) as DatasetTables[];
}
