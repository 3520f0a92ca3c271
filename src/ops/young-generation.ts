// How large V8 lets a process's young generation grow (issue 22: a client's memory). V8 starts
// it at 1 MiB per semi-space and doubles it, up to 16 MiB per semi-space (Node 20-22), whenever
// enough survives a scavenge; a client's start-up (modules, the protobuf schema, TLS) grew it to
// 8 MiB per semi-space, about 7 MiB of resident memory that an idle client or a call never
// needs again. A client keeps it at 1 MiB: a call allocates about 0.75 MiB a second, so it
// scavenges about once a second, for about a millisecond. On one thread: V8's parallel
// scavenge, with its tasks on the worker threads, kept one of them 3-4 % of a core busy
// through a call for such small collections (its CPU read from /proc/PID/task; bench/client-rss.ts
// gives the main thread apart).
// Servers, and a client once promoted to supernode, let it grow and scavenge as V8 would.
//
// V8 reads both flags at each growth and each scavenge, so they apply at run time; the maximum
// (--max-semi-space-size) is fixed when the process starts and cannot be set here.
import { setFlagsFromString } from 'node:v8';

/** V8's own --semi-space-growth-factor. */
const V8_DEFAULT_GROWTH_FACTOR = 2;

export function sizeYoungGenerationFor(role: 'client' | 'server'): void {
  const client = role === 'client';
  setFlagsFromString(`--semi-space-growth-factor=${client ? 1 : V8_DEFAULT_GROWTH_FACTOR}`);
  setFlagsFromString(client ? '--no-parallel-scavenge' : '--parallel-scavenge');
}
