// How large V8 lets a process's young generation grow (issue 22: a client's memory). V8 starts
// it at 1 MiB per semi-space and doubles it, up to 16 MiB per semi-space (Node 20-22), whenever
// enough survives a scavenge; a client's start-up (modules, the protobuf schema, TLS) grew it to
// 8 MiB per semi-space, about 7 MiB of resident memory that an idle client or a call never
// needs again. A client keeps it at 1 MiB: a call allocates little, so it scavenges a few times
// a second at most, each well under a millisecond (bench/client-rss.ts measures the CPU).
// Servers, and a client once promoted to supernode, let it grow as V8 would.
//
// V8 reads the growth factor at each growth, so the change applies at run time; its maximum
// (--max-semi-space-size) is fixed when the process starts and cannot be set here.
import { setFlagsFromString } from 'node:v8';

/** V8's own --semi-space-growth-factor. */
const V8_DEFAULT_GROWTH_FACTOR = 2;

export function sizeYoungGenerationFor(role: 'client' | 'server'): void {
  setFlagsFromString(`--semi-space-growth-factor=${role === 'client' ? 1 : V8_DEFAULT_GROWTH_FACTOR}`);
}
