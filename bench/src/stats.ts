/** Median, min and max of a few runs' figures. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Each step's spread in seconds over the runs that report steps, in the order the first of them ran them. */
export function stepSpreads(
  runs: ReadonlyArray<Record<string, number> | null>,
): Array<{ step: string; seconds: Spread }> {
  const reported = runs.filter((steps): steps is Record<string, number> => steps !== null);
  return Object.keys(reported[0] ?? {}).map((step) => ({
    step,
    seconds: spread(reported.map((steps) => (steps[step] ?? 0) / 1000)),
  }));
}
