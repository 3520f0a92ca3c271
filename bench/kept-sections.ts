// Hand-written parts of docs/benchmarks.md that `npm run bench` does not measure itself (a
// long separate run, such as the simulator at scale or the relay's before/after comparison).
// They sit between `<!-- kept: NAME -->` and `<!-- /kept: NAME -->` lines, and bench/run.ts
// carries each one over from the file it replaces, so a whole bench run never erases them.
import { existsSync, readFileSync } from 'node:fs';

const OPEN = /^<!-- kept: ([\w-]+) -->$/;

/** The kept blocks of a benchmarks file, markers included, by name. */
export function readKeptSections(path: URL): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  if (!existsSync(path)) return blocks;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const name = OPEN.exec(lines[i]!)?.[1];
    if (name === undefined) continue;
    const end = lines.indexOf(`<!-- /kept: ${name} -->`, i + 1);
    if (end < 0) throw new Error(`docs/benchmarks.md: kept section "${name}" (line ${i + 1}) has no closing marker`);
    blocks.set(name, lines.slice(i, end + 1));
    i = end;
  }
  return blocks;
}

/** The lines of one kept block followed by a blank line, or nothing when the file has none. */
export function keptLines(blocks: Map<string, string[]>, name: string): string[] {
  const block = blocks.get(name);
  return block === undefined ? [] : [...block, ''];
}
