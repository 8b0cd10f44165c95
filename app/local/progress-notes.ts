import type { ProgressUpdate } from '../src/progress';
import { formatBytes } from './terminal';

/** What the notes need to know of an event in flight. */
export interface WatchedEvent {
  key: string;
  size: number;
  started: number;
  progress?: ProgressUpdate;
}

/** `→ trips/a.csv (310.5 MB) started`: an event was taken. */
export function startedNote(event: WatchedEvent): string {
  return `→ ${event.key} (${formatBytes(event.size)}) started`;
}

/** `… trips/a.csv: staging 48 % · 12 s`: where a long event is. */
export function progressNote(event: WatchedEvent, now: number): string {
  const seconds = Math.round((now - event.started) / 1000);
  return `… ${event.key}: ${describeProgress(event.progress)} · ${seconds} s`;
}

export function describeProgress(progress: ProgressUpdate | undefined): string {
  if (!progress) return 'starting';
  const { stage, done, total, unit } = progress;
  if (done === undefined || !total) return stage;
  if (unit === 'bytes') return `${stage} ${formatBytes(done)} of ${formatBytes(total)}`;
  return `${stage} ${Math.min(100, Math.round((100 * done) / total))} %`;
}
