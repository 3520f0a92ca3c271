/** Runs `round` `rounds` times; each returns a rate (or any figure); reports median and range. */
export function measure(rounds, round) {
    round(); // warm-up: JIT and caches
    return summarise(Array.from({ length: rounds }, round));
}
/** Median and range of some values (at least one). */
export function summarise(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
}
/** Operations per second of `op`, run `count` times in a tight loop. */
export function opsPerSecond(count, op) {
    const start = performance.now();
    for (let i = 0; i < count; i++)
        op(i);
    return (count * 1000) / (performance.now() - start);
}
/** Heap in use after full collections (run node with --expose-gc). */
export function heapUsed() {
    const gc = globalThis.gc;
    if (!gc)
        throw new Error('run with --expose-gc');
    gc();
    gc();
    return process.memoryUsage().heapUsed;
}
export function fmt(value, digits = 0) {
    return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
export function fmtMeasurement(m, digits = 0) {
    return `${fmt(m.median, digits)} (${fmt(m.min, digits)}–${fmt(m.max, digits)})`;
}
//# sourceMappingURL=measure.js.map