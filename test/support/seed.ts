// Seeds for simulated tests: fixed by default so CI is reproducible, overridable with
// PARLEY_SEED to explore; a failing test names its seed so the run can be replayed.
export function testSeed(fallback = 1): number {
  const fromEnv = process.env.PARLEY_SEED;
  return fromEnv === undefined ? fallback : Number(fromEnv) >>> 0;
}

export async function withSeed<T>(seed: number, body: (seed: number) => Promise<T> | T): Promise<T> {
  try {
    return await body(seed);
  } catch (error) {
    if (error instanceof Error) error.message = `[seed ${seed}; replay with PARLEY_SEED=${seed}] ${error.message}`;
    throw error;
  }
}
