// Only the "Under attack (issue 19)" section of the benchmarks, printed (docs/benchmarks.md is
// written by the whole run): `node dist/bench/floods-only.js [rounds]`.
import { benchAmplification } from './reflection.js';
import { benchFloods, underAttackLines } from './floods.js';

const rounds = Number(process.argv[2] ?? 3);
const floods = await benchFloods(rounds);
const amplification = await benchAmplification();
process.stdout.write(`${underAttackLines(floods, amplification).join('\n')}\n`);
