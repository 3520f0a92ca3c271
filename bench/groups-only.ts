// Only the "Group chats (issue 24)" section of the benchmarks, printed (docs/benchmarks.md is
// written by the whole run): `node dist/bench/groups-only.js [members] [seed]`.
import { benchGroupWorlds, groupLines } from './groups.js';

const members = Number(process.argv[2] ?? 100);
const seed = Number(process.argv[3] ?? 1);
const { spread, single } = await benchGroupWorlds(members, seed);
process.stdout.write(`${groupLines(spread, single).join('\n')}\n`);
