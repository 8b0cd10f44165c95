/**
 * Runs jobs with at most `concurrency` at a time, in arrival order. Jobs that
 * have not started can be dropped (on shutdown); a job's failure is its own
 * business: `run` must handle its errors.
 */
export class WorkQueue<T> {
  private readonly waiting: T[] = [];
  private running = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly run: (item: T) => Promise<void>,
  ) {
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
    }
  }

  get size(): { waiting: number; running: number } {
    return { waiting: this.waiting.length, running: this.running };
  }

  push(item: T): void {
    this.waiting.push(item);
    this.next();
  }

  /** Removes and returns the jobs that have not started. */
  drop(): T[] {
    return this.waiting.splice(0);
  }

  /** Resolves when nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const item = this.waiting.shift() as T;
      this.running++;
      void this.run(item)
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.next();
          this.settleIdle();
        });
    }
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.running > 0 || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
