// A process's memory as Linux counts it (/proc/PID/smaps_rollup and smaps), for the client
// memory benchmarks (issue 22). RSS counts every resident page the process maps, including the
// pages of the node binary and shared libraries that every Node process on the machine shares;
// PSS divides each shared page among the processes mapping it; USS (private pages) is what the
// machine gets back when this process exits — the per-client cost.
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface ProcessMemory {
  readonly rssKiB: number;
  readonly pssKiB: number;
  /** Private clean + private dirty: pages no other process maps. */
  readonly ussKiB: number;
  /** Anonymous resident pages (V8's heap, malloc arenas, stacks, WebAssembly memory). */
  readonly anonKiB: number;
  /** File-backed resident pages (the node binary, shared libraries, native addons). */
  readonly fileKiB: number;
}

const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);

export function processMemory(pid: number): ProcessMemory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const rssKiB = field(rollup, 'Rss');
  const anonKiB = field(rollup, 'Anonymous');
  return {
    rssKiB,
    pssKiB: field(rollup, 'Pss'),
    ussKiB: field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty'),
    anonKiB,
    fileKiB: rssKiB - anonKiB,
  };
}

export interface MappingGroup {
  /** The file's name, `[heap]`, `[stack]` or `[anon]` (V8's pages, malloc arenas, thread stacks). */
  readonly name: string;
  readonly rssKiB: number;
  readonly pssKiB: number;
  readonly ussKiB: number;
  readonly mappings: number;
}

/** Resident memory grouped by what is mapped, largest first. */
export function memoryByMapping(pid: number): MappingGroup[] {
  const groups = new Map<string, { rssKiB: number; pssKiB: number; ussKiB: number; mappings: number }>();
  let current: { rssKiB: number; pssKiB: number; ussKiB: number; mappings: number } | null = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const path = header[1]!.trim();
      const name = path === '' ? '[anon]' : path.startsWith('[') ? path.replace(/:.*\]$/, ']') : basename(path);
      current = groups.get(name) ?? { rssKiB: 0, pssKiB: 0, ussKiB: 0, mappings: 0 };
      current.mappings++;
      groups.set(name, current);
      continue;
    }
    const value = /^(\w+):\s+(\d+) kB/.exec(line);
    if (!value || !current) continue;
    const kib = Number(value[2]);
    if (value[1] === 'Rss') current.rssKiB += kib;
    else if (value[1] === 'Pss') current.pssKiB += kib;
    else if (value[1] === 'Private_Clean' || value[1] === 'Private_Dirty') current.ussKiB += kib;
  }
  return [...groups].map(([name, g]) => ({ name, ...g })).sort((a, b) => b.rssKiB - a.rssKiB);
}

/** A table of the groups holding at least `minKiB` of RSS, for a report. */
export function formatMappings(groups: readonly MappingGroup[], minKiB = 256): string {
  const rows = groups.filter((g) => g.rssKiB >= minKiB).map((g) => `  ${g.name.padEnd(32)} rss ${(g.rssKiB / 1024).toFixed(1).padStart(6)}  pss ${(g.pssKiB / 1024).toFixed(1).padStart(6)}  uss ${(g.ussKiB / 1024).toFixed(1).padStart(6)} MiB  (${g.mappings} mappings)`);
  return rows.join('\n');
}

/** The names of the process's threads (each has a stack and may have its own malloc arena). */
export function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
}
