// Repeated measurement: the machine is shared and noisy, so each figure is the median of
// several rounds, reported with its spread.
export interface Measurement {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Runs `round` `rounds` times; each returns a rate (or any figure); reports median and range. */
export function measure(rounds: number, round: () => number): Measurement {
  round(); // warm-up: JIT and caches
  return summarise(Array.from({ length: rounds }, round));
}

/** Median and range of some values (at least one). */
export function summarise(values: readonly number[]): Measurement {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Operations per second of `op`, run `count` times in a tight loop. */
export function opsPerSecond(count: number, op: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) op(i);
  return (count * 1000) / (performance.now() - start);
}

/** Heap in use after full collections (run node with --expose-gc). */
export function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function fmtMeasurement(m: Measurement, digits = 0): string {
  return `${fmt(m.median, digits)} (${fmt(m.min, digits)}–${fmt(m.max, digits)})`;
}
