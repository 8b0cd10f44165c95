import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where the bench finds what it measures: the app package, reached by its name. */
export const BENCH_DIR = resolve(__dirname, '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const APP_DIR = dirname(require.resolve('@lakehouse/app/package.json'));
/** The script behind `pnpm dev`: the pipeline is measured through its stderr banner and stdout lines only. */
export const DEV_SCRIPT = join(APP_DIR, 'scripts', 'dev.ts');

/** Node flags that run TypeScript: tsx's loader, resolved from the app package as `pnpm dev` finds it. */
export function tsxNodeArgs(): string[] {
  const loader = createRequire(join(APP_DIR, 'package.json')).resolve('tsx');
  return ['--import', pathToFileURL(loader).href];
}

/**
 * Environment for every child: the handler's INFO lines and CloudWatch metric
 * lines are noise here, as is the SDK's notice about Node 20 (Lambda runs 22).
 */
export function quietChildEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}
