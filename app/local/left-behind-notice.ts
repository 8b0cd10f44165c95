import { loadDatasets } from '../src/datasets';
import { findLeftBehind } from '../src/replay/left-behind';
import { BUCKETS, type LocalLakehouse } from './local-lakehouse';

/**
 * What a lakehouse stopped mid-work (killed, a crash, a second Ctrl-C) left
 * behind, said at start with the command that repairs it; nothing when whole.
 * It suggests rather than repairs: a file that crashed the process would
 * crash it again at every start, and after a change to a dataset's SQL the
 * right repair is a backfill, not a replay.
 */
export async function leftBehindNotice(
  lakehouse: Pick<LocalLakehouse, 'client' | 'cfg' | 'failedEvents'>,
  datasets = loadDatasets(),
): Promise<string | undefined> {
  const found = await findLeftBehind({ s3: lakehouse.client(), zones: BUCKETS, datasets, cfg: lakehouse.cfg });
  const failed = (await lakehouse.failedEvents.names()).length;
  const lines: string[] = [];
  const notInGold = found.notInGold.length + found.uploadedAgain.length;
  if (found.noOutcome.length + notInGold > 0) {
    lines.push(
      `${found.noOutcome.length} raw object(s) have no outcome (neither silver output nor quarantine record) and ` +
        `${notInGold} silver file(s) are not in gold, of ${found.scanned} raw object(s): ` +
        'run `pnpm reconcile` in another shell to process them',
    );
  }
  if (failed > 0) lines.push(`${failed} event(s) failed after their retries: \`pnpm redrive\` re-runs them`);
  return lines.length > 0 ? lines.join('\n') : undefined;
}
