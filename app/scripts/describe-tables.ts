/**
 * Prints, as JSON, the tables every dataset under transforms/ writes and their
 * columns (see src/catalog/table-schemas.ts). The stack runs it at synth to
 * declare the Glue tables, so a change to a dataset's SQL changes its tables.
 *
 *   node --import tsx app/scripts/describe-tables.ts [transformsDir]
 */
import { resolve } from 'node:path';
import { describeDatasets } from '../src/catalog/table-schemas';
import { defaultTransformsDir, loadDatasets } from '../src/datasets';

const dir = process.argv[2] ? resolve(process.argv[2]) : defaultTransformsDir();
describeDatasets(loadDatasets(dir).values())
  .then((tables) => process.stdout.write(`${JSON.stringify(tables)}\n`))
  .catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
