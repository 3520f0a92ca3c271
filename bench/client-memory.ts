// Where a client's memory goes (issue 22): what each part a client loads adds to a bare Node
// process, each step in a fresh process (RSS, PSS, USS; bench/process-memory.ts), after a
// collection so that start-up garbage does not count.
//
//   node --expose-gc dist/bench/client-memory.js [--map]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMappings, memoryByMapping, processMemory, type ProcessMemory } from './process-memory.js';

const dist = new URL('../', import.meta.url).pathname;
const mod = (path: string) => JSON.stringify(`file://${join(dist, path)}`);

/** Each step alone, in its own process: what it loads and does. */
export const STEPS: readonly { name: string; code: string }[] = [
  { name: 'bare node', code: '' },
  { name: 'node:https (TLS)', code: "await import('node:https');" },
  { name: '@bufbuild/protobuf (runtime)', code: "await import('@bufbuild/protobuf');" },
  { name: '@bufbuild/protobuf/codegenv2 (+ descriptor.proto)', code: "await import('@bufbuild/protobuf/codegenv2');" },
  { name: 'wire schema (wire_pb, 53 messages)', code: `await import(${mod('src/wire/gen/parley/v1/wire_pb.js')});` },
  { name: 'wire messages (schema + decoders)', code: `await import(${mod('src/wire/messages.js')});` },
  { name: 'sodium-native', code: `await import(${mod('src/crypto/sodium.js')});` },
  {
    name: 'better-sqlite3, chat history opened',
    code: `const { ChatHistory } = await import(${mod('src/chat/history.js')}); const h = ChatHistory.open(process.env.DB); h.queued(Date.now()); globalThis.h = h;`,
  },
  { name: 'the client code (overlay commands, imports only)', code: `await import(${mod('src/cli/overlay-commands.js')});` },
];

const SETTLE_MS = 1_500;

/** Runs one step in a fresh node process; its memory once it has settled. */
/** What the process said of itself: process.memoryUsage() and V8's code statistics, bytes. */
type SelfReport = Record<'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers' | 'code_and_metadata_size' | 'bytecode_and_metadata_size', number>;

function runStep(code: string, env: NodeJS.ProcessEnv, map: boolean): Promise<ProcessMemory & { self: SelfReport }> {
  const script = `${code}\nglobalThis.gc?.(); const { getHeapCodeStatistics } = await import('node:v8'); console.log('ready', JSON.stringify({ ...process.memoryUsage(), ...getHeapCodeStatistics() })); setTimeout(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: join(dist, '..'), env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (!text.startsWith('ready ')) return;
      const self = JSON.parse(text.slice('ready '.length)) as SelfReport;
      setTimeout(() => {
        try {
          const memory = processMemory(child.pid!);
          if (map) console.log(formatMappings(memoryByMapping(child.pid!)));
          resolve({ ...memory, self });
        } catch (error) {
          reject(error as Error);
        } finally {
          child.kill('SIGKILL');
        }
      }, SETTLE_MS);
    });
    child.on('exit', (code) => {
      if (code !== null) reject(new Error(`step exited with ${code}`));
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const map = process.argv.includes('--map');
  const dir = mkdtempSync(join(tmpdir(), 'parley-client-memory-'));
  try {
    const mib = (kib: number) => (kib / 1024).toFixed(1).padStart(6);
    let bare: ProcessMemory | null = null;
    for (const step of STEPS) {
      const m = await runStep(step.code, { ...process.env, DB: join(dir, 'history.db') }, map);
      bare ??= m;
      console.log(
        `${step.name.padEnd(52)} rss ${mib(m.rssKiB)} (+${mib(m.rssKiB - bare.rssKiB)})  pss ${mib(m.pssKiB)} (+${mib(m.pssKiB - bare.pssKiB)})  uss ${mib(m.ussKiB)} (+${mib(m.ussKiB - bare.ussKiB)}) MiB  anon ${mib(m.anonKiB)}; V8 heap ${mib(m.self.heapTotal / 1024)} (used ${mib(m.self.heapUsed / 1024)}, code ${mib(m.self.code_and_metadata_size / 1024)}, bytecode ${mib(m.self.bytecode_and_metadata_size / 1024)}), external ${mib(m.self.external / 1024)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
