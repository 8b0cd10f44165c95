/**
 * The steps of one object's processing, in the order they run:
 * - a whole file: `download`, `stage` (read, the dataset's SQL and rules),
 *   `publish` (silver and rejects written, checked against the schema),
 *   `upload`, `gold` (submitting its gold job: a queue message on AWS, the
 *   gold update itself in the local lakehouse);
 * - a file in chunks, in process: `plan`, `chunks`, `commit` (gold included).
 */
export type Step = 'download' | 'stage' | 'publish' | 'upload' | 'gold' | 'plan' | 'chunks' | 'commit';

/** Wall milliseconds of each step that ran: where an object's time went (the outcome line's `stepsMs`). */
export type StepsMs = Partial<Record<Step, number>>;

/** Times consecutive steps: each `lap` ends the step that ran since the previous one (or since the clock started). */
export class StepClock {
  private readonly times: StepsMs = {};
  private last = performance.now();

  lap(step: Step): void {
    const now = performance.now();
    this.times[step] = (this.times[step] ?? 0) + Math.round(now - this.last);
    this.last = now;
  }

  get ms(): StepsMs {
    return { ...this.times };
  }
}
