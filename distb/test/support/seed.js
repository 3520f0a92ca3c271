// Seeds for simulated tests: fixed by default so CI is reproducible, overridable with
// PARLEY_SEED to explore; a failing test names its seed so the run can be replayed.
export function testSeed(fallback = 1) {
    const fromEnv = process.env.PARLEY_SEED;
    return fromEnv === undefined ? fallback : Number(fromEnv) >>> 0;
}
export async function withSeed(seed, body) {
    try {
        return await body(seed);
    }
    catch (error) {
        if (error instanceof Error)
            error.message = `[seed ${seed}; replay with PARLEY_SEED=${seed}] ${error.message}`;
        throw error;
    }
}
//# sourceMappingURL=seed.js.map