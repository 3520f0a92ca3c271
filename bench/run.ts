// `npm run bench`: measures, prints, and writes docs/benchmarks.md.
import { writeFileSync } from 'node:fs';
import { keptLines, readKeptSections } from './kept-sections.js';
import os from 'node:os';
import { benchCrypto } from './crypto.js';
import { benchVnet } from './vnet.js';
import { benchLoginServer } from './login-server.js';
import { benchOverlay } from './overlay.js';
import { benchAttachments } from './attachments.js';
import { benchChat } from './chat.js';
import { benchGroupWorlds, groupLines } from './groups.js';
import { benchTurn, type LoadResult } from './turn.js';
import { benchLab, benchNatDetection, benchPathSetup } from './nat.js';
import { benchCallSetup, benchMedia, benchMixerCpu, CALL_SECONDS, MIXER_PHASES_MS, RING_BEFORE_ANSWER_MS, SETTLED_AFTER_MS } from './media.js';
import { benchBrowser } from './browser.js';
import { benchDeploy } from './deploy.js';
import { benchClientRss, CPU_WINDOW_S, median, type ClientRss } from './client-rss.js';
import { benchAmplification } from './reflection.js';
import { benchFloods, underAttackLines } from './floods.js';
import { RECOMMENDED_SCRYPT_COST } from '../src/login-server/passwords.js';
import { fmt, fmtMeasurement } from './measure.js';
import { DEFAULT_BITRATE } from '../src/media/media-stream.js';

const started = new Date();
const crypto = benchCrypto();
const vnet = await benchVnet();
const login = await benchLoginServer();
const overlay = await benchOverlay(1000, 200, 300);
const attachments = await benchAttachments(10_000);
const chat = await benchChat();
const groups = await benchGroupWorlds();
const turn = await benchTurn();
const detection = await benchNatDetection();
const setup = await benchPathSetup();
const lab = benchLab();
const media = await benchMedia();
const callSetup = await benchCallSetup();
const mixerCpu = benchMixerCpu(10);
const mixerCpuTwoTalking = benchMixerCpu(10, 2);
const browser = await benchBrowser();
const deploy = await benchDeploy();
const [clientRss] = await benchClientRss([{ label: 'parley', main: new URL('../src/cli/main.js', import.meta.url).pathname }]);
const amplification = await benchAmplification();
const floods = await benchFloods();

const carried = (results: readonly { offered: number; lossPercent: number }[]) => Math.max(0, ...results.filter((r) => r.lossPercent < 1).map((r) => r.offered));
const at = (results: readonly LoadResult[], rate: number) => results.find((r) => r.offered === rate);
const halfRate = turn.direct.offered;
const oursHalf = at(turn.parley, halfRate);
const coturnHalf = at(turn.coturn, halfRate);
const oursKnee = at(turn.parley, carried(turn.parley));
const coturnKnee = at(turn.coturn, carried(turn.coturn));
const labByPair = new Map('results' in lab ? lab.results.map((r) => [`${r.a}|${r.b}`, r]) : []);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const mib = (r: ClientRss, kind: 'rss' | 'pss' | 'uss') => [r.onlineIdle, r.daemonIdle, r.caller, r.callee].map((s) => fmt(median(s[kind]), 1)).join(' / ');
const BENCHMARKS_MD = new URL('../../docs/benchmarks.md', import.meta.url);
const kept = readKeptSections(BENCHMARKS_MD);

const lines = [
  '# Benchmarks',
  '',
  `Written by \`npm run bench\` on ${started.toISOString().slice(0, 10)}: ${cpu}, ${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
  'Every figure is the median of 5 rounds after a warm-up, with the range (min–max) in brackets; one thread does all the work ("one core").',
  'The machine is shared and noisy: compare ratios within one run rather than figures across runs.',
  '',
  '## Secure channel (issue 2)',
  '',
  '| figure | result | target | reference in the same run |',
  '| --- | --- | --- | --- |',
  `| X25519 DH operations/s (libsodium) | ${fmtMeasurement(crypto.dhPerSecond)} | | the primitive: an XX handshake costs 6 DH + 2 key generations (fixed-base, about half a DH each: ≈ 7 DH) for both ends |`,
  `| Noise XX handshakes/s, both ends, crypto only | ${fmtMeasurement(crypto.noiseXX)} | ≥ 2 000 | bound from DH alone: ${fmt(crypto.dhPerSecond.median / 7)}/s (ratio ${fmt(crypto.noiseXX.median / (crypto.dhPerSecond.median / 7), 2)}) |`,
  `| Noise XX handshakes/s, responder's share only (what a supernode pays per client) | ${fmtMeasurement(crypto.noiseXXResponder)} | ≥ 5 000 | |`,
  `| Noise IK handshakes/s, both ends, crypto only | ${fmtMeasurement(crypto.noiseIK)} | ≥ 2 000 | IK costs 8 DH + 2 key generations for both ends (≈ 9 DH) |`,
  `| Noise IK handshakes/s, responder's share only | ${fmtMeasurement(crypto.noiseIKResponder)} | ≥ 2 000 | |`,
  `| Ed25519 signatures/s, 100-byte message (libsodium) | ${fmtMeasurement(crypto.signPerSecond)} | | certificates, records, access tokens |`,
  `| Ed25519 verifications/s, raw 32-byte key (libsodium) | ${fmtMeasurement(crypto.verifyPerSecond)} | | two per channel handshake (the certificates), one per key re-login |`,
  `| Parley channel handshakes/s (XX + version negotiation + 2 certificate checks), both ends | ${fmtMeasurement(crypto.channelXX)} | | |`,
  `| Parley channel handshakes/s (XX), both ends, certificates not seen before (2 Ed25519 verifications) | ${fmtMeasurement(crypto.channelXXFreshCertificates)} | | the rows above reuse one pair of identities: the verifier's cache answers their certificate checks |`,
  `| Parley channel handshakes/s (IK, as clients to known supernodes), both ends | ${fmtMeasurement(crypto.channelIK)} | | |`,
  `| 100-byte frames sealed/s, ChaChaPoly (CipherState) | ${fmtMeasurement(crypto.seal.ChaChaPoly)} | ≥ 300 000 | raw AEAD call (libsodium): ${fmtMeasurement(crypto.rawSeal.ChaChaPoly)} |`,
  `| 100-byte frames opened/s, ChaChaPoly | ${fmtMeasurement(crypto.open.ChaChaPoly)} | ≥ 300 000 | |`,
  `| 100-byte frames sealed/s, AESGCM | ${fmtMeasurement(crypto.seal.AESGCM)} | ≥ 200 000 | raw node:crypto AEAD call: ${fmtMeasurement(crypto.rawSeal.AESGCM)} |`,
  `| 100-byte frames opened/s, AESGCM | ${fmtMeasurement(crypto.open.AESGCM)} | ≥ 200 000 | |`,
  `| 100-byte messages through a whole channel/s (encode, seal, frame, unframe, open, decode) | ${fmtMeasurement(crypto.channelFrames)} | | |`,
  '',
  '## Virtual network (issue 2)',
  '',
  '| figure | result | target |',
  '| --- | --- | --- |',
  `| delivered UDP packets/s, 1 000 public hosts, 10 000 packets in flight, 20 ms ± 5 ms links | ${fmtMeasurement(vnet.publicPacketsPerSecond)} | ≥ 1 000 000 |`,
  `| delivered UDP packets/s, 1 000 clients each behind a port-restricted NAT ↔ 100 servers | ${fmtMeasurement(vnet.natPacketsPerSecond)} | |`,
  `| virtual timer events/s | ${fmtMeasurement(vnet.timerEventsPerSecond)} | |`,
  `| heap bytes per public host (${fmt(vnet.hostsForMemory)} hosts) | ${fmtMeasurement(vnet.bytesPerBareHost)} | ≤ 2 048 |`,
  `| heap bytes per public host with one bound UDP socket | ${fmtMeasurement(vnet.bytesPerHostWithSocket)} | ≤ 2 048 |`,
  `| heap bytes per host behind a NAT (100 hosts per NAT, NAT included) | ${fmtMeasurement(vnet.bytesPerNattedHost)} | ≤ 2 048 |`,
  '',
  '## Login server (issue 3)',
  '',
  'Requests go through the whole HTTP stack in one process (Fastify `inject`: routing, validation, handlers, database), without TLS or sockets; the client side (signing, request building) runs in the same thread. PostgreSQL 15 runs on loopback with fsync off (a throwaway test cluster).',
  '',
  '| figure | result | target |',
  '| --- | --- | --- |',
  `| key-based re-logins/s (challenge + signed login → new certificate), embedded SQLite, 32 devices at once | ${fmtMeasurement(login.reloginsPerSecond.sqlite)} | |`,
  `| key-based re-logins/s, PostgreSQL | ${fmtMeasurement(login.reloginsPerSecond.postgres)} | ≥ 2 000 |`,
  `| password login latency, scrypt N=2^${RECOMMENDED_SCRYPT_COST.logN} r=${RECOMMENDED_SCRYPT_COST.r} p=${RECOMMENDED_SCRYPT_COST.p} (128 MiB), p50 / p90 of ${login.passwordLoginMs.count} | ${fmt(login.passwordLoginMs.p50)} ms / ${fmt(login.passwordLoginMs.p90)} ms | bounded by the KDF |`,
  `| prefix search over ${fmt(login.prefixSearchMs.users)} users in PostgreSQL (API, 20 results), p50 / p99 of ${fmt(login.prefixSearchMs.searches)} | ${fmt(login.prefixSearchMs.p50, 1)} ms / ${fmt(login.prefixSearchMs.p99, 1)} ms | p99 ≤ 20 ms |`,
  `| RSS of an idle \`parley login-server\`, embedded SQLite | ${fmt(login.idleRssMb.sqlite)} MB | |`,
  `| RSS of an idle \`parley login-server\`, PostgreSQL | ${fmt(login.idleRssMb.postgres)} MB | |`,
  '',
  '## Supernode overlay (issue 4)',
  '',
  `The virtual network, ${fmt(overlay.supernodes)} supernodes and ${fmt(overlay.clients)} clients behind port-restricted NATs; links 5–20 ms one way, so the median round trip between two nodes is ${fmt(overlay.medianRttMs)} ms. Times are virtual (exact, not this machine's speed); the run took ${fmt(overlay.wallSeconds)} s of wall time. Skype's figures are the seed's table (Baset & Schulzrinne 2004).`,
  '',
  '| figure | result | target / Skype |',
  '| --- | --- | --- |',
  `| lookup hops (supernode to the record's holders), p50 / p99 / max | ${overlay.hops.p50} / ${overlay.hops.p99} / ${overlay.hops.max} | p50 ≤ 3 |`,
  `| lookup time, p50 / p99, in median RTTs | ${fmt(overlay.lookupMs.p50)} ms / ${fmt(overlay.lookupMs.p99)} ms = ${fmt(overlay.lookupMs.p50 / overlay.medianRttMs, 1)} / ${fmt(overlay.lookupMs.p99 / overlay.medianRttMs, 1)} RTT | p99 ≤ 4 RTT; Skype search 3–4 s (public) |`,
  `| requests per lookup | ${fmt(overlay.requestsPerLookup, 1)} | |`,
  `| bytes at the client for attaching (TCP, Noise IK, presence record, answer), p50 | ${fmt(overlay.attachBytes.p50)} B | Skype login: 10 KB public, 11 KB NAT |`,
  `| bytes at the client for a search, p50 / max | ${fmt(overlay.searchBytes.p50)} B / ${fmt(overlay.searchBytes.max)} B | Skype search: 1–2 KB |`,
  `| a crashed supernode noticed by its clients (a ping after 7 s of silence, the pong awaited for two RTOs of the measured round trips), p50 / max | ${fmt(overlay.detectionMs.p50 / 1000, 1)} s / ${fmt(overlay.detectionMs.max / 1000, 1)} s | ≤ 5 s |`,
  `| re-attached and published again after noticing, p50 / max | ${fmt(overlay.reattachMs.p50)} ms / ${fmt(overlay.reattachMs.max)} ms | ≤ 3 s |`,
  `| heap per attached client on a supernode (${fmt(attachments.clients)} clients: secure link, session, presence record) | ${fmt(attachments.bytesPerClient)} B | ≤ 4 096 B |`,
  `| CPU for keep-alives at ${fmt(attachments.clients)} clients (${fmt(attachments.keepalivesPerSecond)} pings/s; both ends run in this process, so the supernode's share is less) | ${fmt(attachments.keepaliveCpuPercent, 1)}% of one core | ≤ 10% |`,
  '',
  '## Chat, end to end (issue 5)',
  '',
  `Latency and throughput on real loopback sockets: two supernodes and two clients in this process, alice attached to one supernode and bob to the other, so a message goes alice → supernode → supernode → bob, sealed end to end, and bob's acknowledgement comes back the same way. Bytes on the virtual network (exact, TCP/IP headers included), counted at alice's interface.`,
  '',
  '| figure | result | target |',
  '| --- | --- | --- |',
  `| latency from send to the recipient's screen, 100-byte text, one at a time, p50 / p99 of 500 | ${fmt(chat.latencyMs.p50, 2)} ms / ${fmt(chat.latencyMs.p99, 2)} ms (loopback round trip through a supernode: ${fmt(chat.loopbackRttMs, 2)} ms) | p50 ≤ 2 ms above the network RTT |`,
  `| messages/s one client sends end to end (${fmt(chat.throughputMessages)} × 100-byte text, until all acknowledged) | ${fmt(chat.messagesPerSecond)} | ≥ 5 000 |`,
  `| bytes on the wire at the sender per 100-byte message: alone / in a stream of 1 000 | ${fmt(chat.bytesForOneMessage)} B / ${fmt(chat.bytesPerMessageBulk)} B | |`,
  '',
  '## NAT traversal (issue 6)',
  '',
  `**TURN relaying, ours beside coturn ${'4.6.1'} in the same run**: ${8} clients in one generator process allocate on the server, bind a channel to an echo peer and send 100-byte datagrams at a fixed rate for 3 s; each comes back, so every datagram is relayed twice. Ours runs its relay on ${os.availableParallelism()} worker threads (\`--relay-workers\`, one per core; each client's Allocate is redirected to its user's thread, 8 users). Server CPU is read from /proc (user + system, every thread), so ours and coturn (${turn.coturnThreads} threads) compare per core. The generator itself tops out near the highest rates, so packets per CPU-second is the figure that compares the servers.`,
  '',
  '| offered datagrams/s | ours: loss, RTT p50 / p99, server CPU per relayed datagram | coturn: the same |',
  '| --- | --- | --- |',
  ...turn.rates.filter((rate) => at(turn.parley, rate) || at(turn.coturn, rate)).map((rate) => {
    const cell = (r: LoadResult | undefined) => (r ? `${fmt(r.lossPercent, 2)}%, ${fmt(r.p50, 2)} / ${fmt(r.p99, 2)} ms, ${fmt(r.cpuMicrosPerRelayed, 1)} µs` : '—');
    return `| ${fmt(rate)} | ${cell(at(turn.parley, rate))} | ${cell(at(turn.coturn, rate))} |`;
  }),
  '',
  '| figure | result | target |',
  '| --- | --- | --- |',
  `| highest offered rate with < 1% loss (relayed datagrams/s = twice that) | ours ${fmt(carried(turn.parley))}/s, coturn ${fmt(carried(turn.coturn))}/s | |`,
  `| relayed datagrams per CPU-second at that rate (per core) | ours ${fmt(oursKnee ? 1e6 / oursKnee.cpuMicrosPerRelayed : NaN)}, coturn ${fmt(coturnKnee ? 1e6 / coturnKnee.cpuMicrosPerRelayed : NaN)}: ratio ${fmt(oursKnee && coturnKnee ? coturnKnee.cpuMicrosPerRelayed / oursKnee.cpuMicrosPerRelayed : NaN, 2)} | ≥ 0.5× coturn per core |`,
  `| latency the relay adds at half load (${fmt(halfRate)}/s), p50 / p99 (relayed RTT minus direct RTT ${fmt(turn.direct.p50, 2)} / ${fmt(turn.direct.p99, 2)} ms) | ours ${oursHalf ? `${fmt(oursHalf.p50 - turn.direct.p50, 2)} / ${fmt(oursHalf.p99 - turn.direct.p99, 2)} ms` : '—'}; coturn ${coturnHalf ? `${fmt(coturnHalf.p50 - turn.direct.p50, 2)} / ${fmt(coturnHalf.p99 - turn.direct.p99, 2)} ms` : '—'} | p99 ≤ 1 ms |`,
  '',
  ...keptLines(kept, 'relay-threads'),
  `**NAT detection at login** (virtual network, 20 ms round trip to the supernode, two-address STUN server): ${detection.map((d) => `${d.placement} → ${d.type} in ${fmt(d.ms)} ms`).join('; ')}. Target ≤ 500 ms. A public host and a full cone get every answer at once; the others wait max(4 RTT, 100 ms) for the filtering answers that do not come.`,
  '',
  `**Call path setup per pair.** Virtual network: 20 ms round trips between any two devices and to the supernode; setup = gathering (a TURN allocation: the credential challenge and the allocation, 2 RTT) + the offer and answer through the supernodes (1 RTT) + checks until the controlling side's nomination is answered. Lab: real \`parley connect\` processes across the namespaces and iptables/nftables NATs of test/netlab/lab.sh, from the command's start (attach, end-to-end session, credentials, gathering, offer/answer, checks) to the path; ${'skipped' in lab ? `not run: ${lab.skipped}` : 'this kernel has no netem, so the lab adds no delay: its times are process and CPU time on this loaded 2-core machine, three connections at a time'}. "best" says whether the path is the best possible for the pair (docs/nat.md explains each).`,
  '',
  '| pair | virtual: path, setup (gather + signalling + checks) | best | lab: path, setup, RTT over the path | best |',
  '| --- | --- | --- | --- | --- |',
  ...setup.map((r) => {
    const l = labByPair.get(`${r.a}|${r.b}`);
    return `| ${r.a} ↔ ${r.b} | ${r.path}, ${fmt(r.totalMs)} ms (${fmt(r.gatherMs)} + 40 + ${fmt(r.checksMs)}) | ${r.path === r.best ? 'yes' : `no (${r.best})`} | ${l ? `${l.path}, ${fmt(l.setupMs)} ms, ${fmt(l.rttMs, 2)} ms` : '—'} | ${l ? (l.path === l.best ? 'yes' : `no (${l.best})`) : ''} |`;
  }),
  '',
  `Targets: ≤ 1 s for direct and hole-punched pairs at 20 ms RTT (virtual: max ${fmt(Math.max(...setup.filter((r) => !r.path.startsWith('relayed')).map((r) => r.totalMs)))} ms), ≤ 2 s for relayed ones (max ${fmt(Math.max(...setup.filter((r) => r.path.startsWith('relayed')).map((r) => r.totalMs)))} ms: a relayed pair waits ≥ 500 ms for a better pair still being checked). Devices behind UDP-blocking and web-only firewalls reach TURN over TCP (web-only on the supernode's web port, 443, which also takes their attachment; the lab's login server is on port 80). Lab setup times include the device's attach: a web-only device dials the web port 250 ms after the supernode's own port.`,
  '',
  '## Voice calls (issue 7)',
  '',
  `File to file on loopback: real UDP sockets and timers in one process; the input is silence with a 10 ms, 1 kHz marker every 500 ms, and the delay is where each marker begins in what the receiver played, on the same clock. The call lasts ${fmt(CALL_SECONDS)} s; the figures count the ${media.latency[0]!.markers} markers from ${fmt(SETTLED_AFTER_MS / 1000)} s on, once the jitter buffer has adapted (it starts 200 ms deep on purpose: the first seconds are when a busy machine stalls; see src/media/jitter-buffer.ts), and the delay at the start is given apart. Opus at ${fmt(DEFAULT_BITRATE / 1000)} kbit/s, SRTP, the adaptive jitter buffer.`,
  '',
  '| figure | result | target | reference (the seed) |',
  '| --- | --- | --- | --- |',
  ...media.latency.map(
    (l) =>
      `| mouth-to-ear latency, ${l.frameMs} ms frames, settled (median, range); the most in the call's first ${fmt(SETTLED_AFTER_MS / 1000)} s | ${fmt(l.medianMs, 1)} ms (${fmt(l.minMs, 1)}–${fmt(l.maxMs, 1)}); start ${fmt(l.startMaxMs, 1)} ms | ≤ ${l.frameMs === 20 ? 50 : 35} ms | Skype 96 ms, GTalk 109 ms, Yahoo 152 ms, MSN 184 ms${l.frameMs === 20 ? ` (Skype's is ${fmt(96 / l.medianMs, 1)}× ours)` : ''} |`,
  ),
  ...media.latency.map(
    (l) =>
      `| bytes per second, one direction, ${l.frameMs} ms frames | ${fmt(l.bytesPerSecond)} B/s of SRTP; ${fmt(l.wireBytesPerSecond)} B/s with IP/UDP headers; packets ${l.packetBytes.min}–${l.packetBytes.max} B | ≤ 5 KB/s${l.frameMs === 10 ? ' (10 ms frames double the headers)' : ''} | Skype 5 KB/s (UDP), packets 40–120 B |`,
  ),
  `| CPU for one call's audio, per end (encode + SRTP + unprotect + decode, one direction each way) | ${fmt(media.cpu.microsPerAudioSecond / 1000, 1)} ms per second of audio = ${fmt(media.cpu.percentOfCorePerCall, 2)}% of one core | ≤ 3% | |`,
  `| call setup, virtual network (devices behind NATs, 40 ms round trip between them): dial to ringing | ${fmt(callSetup.dialToRingingMs)} ms | | Skype: a call connects in seconds |`,
  `| answer (after ${fmt(RING_BEFORE_ANSWER_MS)} ms of ringing) to the call under way / to two-way audio, ${callSetup.path ?? 'no'} path | ${fmt(callSetup.acceptToActiveMs)} ms / ${fmt(callSetup.acceptToTwoWayAudioMs)} ms | < 1 s | |`,
  `| resident memory of a process holding a call's media (both directions, after a collection) | ${fmt(media.memory.callRssMiB, 1)} MiB; Node itself doing nothing: ${fmt(media.memory.bareNodeRssMiB, 1)} MiB | | Skype 21–27 MB in a call; GTalk 13 MB |`,
  `| resident memory of a client (bench/client-rss.ts, real processes on \`parley local\`, median of 3): idle \`parley online\` / idle \`parley daemon\` / \`parley call\` and \`parley answer\` in a call; RSS, and PSS / USS (shared pages divided among processes / private pages only) | RSS ${mib(clientRss!, 'rss')}; PSS ${mib(clientRss!, 'pss')}; USS ${mib(clientRss!, 'uss')} MiB | ≤ 60 MB idle, ≤ 80 MB in a call | Skype 19 MB idle, 21–27 MB in a call |`,
  `| CPU per call end, \`parley call\` / \`parley answer\` (user + system over ${CPU_WINDOW_S} s of a call, median of 3) | ${fmt(median(clientRss!.callerCpuPercent), 1)}% / ${fmt(median(clientRss!.calleeCpuPercent), 1)}% of one core (the main thread ${fmt(median(clientRss!.callerMainPercent), 1)}% / ${fmt(median(clientRss!.calleeMainPercent), 1)}%, the kernel ${fmt(median(clientRss!.callerSysPercent), 1)}% / ${fmt(median(clientRss!.calleeSysPercent), 1)}%) | ≤ 3% | |`,
  '',
  'Dial to ringing includes the first end-to-end session between the two devices (a Noise IK exchange through the supernodes). The path is opened while the callee\'s devices ring (one per ringing device, at most three), so answering costs the ACCEPT\'s trip and the first frame.',
  '',
  'The delay at 20 ms frames is the frame itself (the last sample of a frame is captured 20 ms after its first), the codec\'s lookahead (6.5 ms), a quarter of a frame of playout guard (5 ms), and the loopback and timers. The memory figure is mostly Node (V8, OpenSSL) and libopus\'s WebAssembly instance; the whole `parley call` process also holds the client (overlay link, chat, history). Of a client\'s resident memory about 40 MiB is the node binary\'s own pages (shared with every Node process); loaded modules cost the rest: the protobuf schema and runtime, libsodium, SQLite and the client\'s code. A client loads a command\'s code when it runs (the daemon\'s HTTP server, the call commands\' audio, a supernode\'s code only once promoted), and libopus is compiled on one background thread, not V8\'s many, each of which kept its own malloc arena of the compilation. About 40 MiB of a client\'s RSS is the node binary\'s own pages, shared with every Node process (its USS, what the machine gets back when it exits, is the per-client figure); a client keeps V8\'s young generation at 1 MiB semi-spaces, scavenged on its main thread (src/ops/young-generation.ts), and the daemon compiles each route\'s validator on first use. bench/client-memory.ts shows what each part a client loads adds to a bare Node.',
  '',
  ...keptLines(kept, 'client-memory'),
  '## Conferences (issue 8)',
  '',
  `| figure | result | target |`,
  '| --- | --- | --- |',
  ...media.throughMixer.map(
    (l, i) =>
      `| mouth-to-ear through a mixer (A → mixer → B, loopback, 20 ms frames), the mixer's ticks ${MIXER_PHASES_MS[i]} ms after A's packets, settled (median, range) | ${fmt(l.medianMs, 1)} ms (${fmt(l.minMs, 1)}–${fmt(l.maxMs, 1)}): ${fmt(l.medianMs - media.latency[0]!.medianMs, 1)} ms more than the 1:1 call above | ≤ 25 ms over a 1:1 call |`,
  ),
  ...[mixerCpu, mixerCpuTwoTalking].map(
    (m) =>
      `| mixer CPU, ${m.participants} participants, ${m.talkers === m.participants ? 'all' : m.talkers} talking (each: SRTP unprotect, decode, levelling; per frame ${fmt(m.encodesPerFrame, 1)} encodings: one per talker${m.talkers < m.participants ? ' and one shared by the silent' : ''}; SRTP protect for each) | ${fmt(m.percentOfCore, 1)}% of one core (${fmt(m.perParticipantPercent, 2)}% per participant) | 10 participants on ≤ 25% of one core |`,
  ),
  '',
  'The mixer hop: the same markers, sockets and timers as the 1:1 figure, measured in the same run, with a `ConferenceMixer` on a third socket (SRTP unprotect, its jitter buffer, decode, levelling, limiter, encode, SRTP). It plays every input and sends every mix on one frame clock, so the hop adds one decode–encode (the codec\'s 6.5 ms lookahead again) and the wait for the mixer\'s tick: between nothing and a frame, by the phase of the participant\'s packets against the mixer\'s clock (each participant has its own phase; three are measured). Mixer CPU is the real `ConferenceMixer` on a clock the bench moves (no timers), a second of frames at a time (median of 5): the mixer\'s work only, each participant\'s own encoding made beforehand. Silent frames stay out of the mix, so everyone silent hears the same mix, encoded once (shared encoding); a talker gets its own.',
  '',
  '## The app in a browser (issue 9)',
  '',
  ...('skipped' in browser
    ? [`Not measured: ${browser.skipped}.`]
    : [
        'Debian\'s Chromium, headless, with fake media devices, against `parley local --app` (the README\'s main job) on loopback; playwright-core drives both pages, and times are taken around its actions (they include its round trips to the browser). The callee answers the moment it rings; two-way audio is when both pages play what the other\'s microphone says.',
        '',
        '| figure | result | target |',
        '| --- | --- | --- |',
        `| app bundle (app.js, worklet.js, app.css), gzipped | ${fmt(browser.bundleGzipBytes / 1024, 1)} KB | ≤ 200 KB |`,
        `| first load: navigation until the buddy list shows a buddy online | ${fmt(browser.firstLoadMs)} ms | |`,
        `| click Call → the callee's page rings (median of ${browser.rounds}) | ${fmt(browser.callToRingingMs)} ms | ≤ 300 ms |`,
        `| click Call → audio both ways, answered at once (median of ${browser.rounds}) | ${fmt(browser.callToTwoWayAudioMs)} ms | ≤ 600 ms |`,
        ...([['', browser.mouthToEar], [', both pages\' main threads busy 120 ms of every 400 ms', browser.mouthToEarBusyPages]] as const).map(([busy, m]) =>
          'skipped' in m
            ? `| mouth-to-ear, browser → daemon → network → daemon → browser${busy} | not measured: ${m.skipped} | ≤ 80 ms (Skype 96 ms) |`
            : `| mouth-to-ear, browser → daemon → network → daemon → browser, 20 ms frames${busy} (median of ${m.clicks} clicks, range) | ${fmtMeasurement(m.delayMs)} ms, of which ${fmt(m.outputLatencyMs)} ms the callee's output latency as Chromium reports it | ≤ 80 ms (Skype 96 ms) |`,
        ),
        '',
        'Mouth-to-ear: alice\'s fake microphone plays a click a second (50 ms of 800 Hz, sharp onset); her page\'s audio worklet stamps each captured frame with the audio clock, bob\'s stamps each frame as it starts to play (both mapped to wall-clock time with `getOutputTimestamp`, so the two pages compare); a click\'s onset in each is matched. It counts from the click reaching alice\'s audio thread to it leaving bob\'s speaker (his reported output latency included); the microphone\'s own input latency, which a fake device does not have, is not in it. Busy pages (the second row) cost about 110–130 ms more. Moving the socket to a worker that talks to the worklet over its own channel, so that call audio never passes through a page\'s main thread, was tried and measured no better here (275–299 ms busy, 146–170 quiet, three runs), so the page still relays; the delay is elsewhere (perhaps Chromium\'s own capture path, or two cores shared by two busy pages, two daemons and the network). Where the time goes (measured once by instrumenting the pages): about 15 ms on alice\'s page (a 10 ms frame is filled, then handed from the audio thread to the page), 50–60 ms from daemon to daemon (the call itself, 20 ms frames, is 32–43 ms in the figure above; the rest waits in the daemons\' queues between the socket\'s frames and the call\'s clock), 25–40 ms in bob\'s worklet queue (headless Chromium hands socket messages to the page with gaps up to 45–65 ms), and 40 ms of output latency.',
      ]),
  '',
  '## Running a network on several hosts (issue 18)',
  '',
  '| figure | result | reference in the same run |',
  '| --- | --- | --- |',
  `| an empty supernode folder to a supernode in the network: the operator's token, then the supernode's first start (keys, enrolment, overlay join), real processes | ${fmtMeasurement(deploy.enrolToJoinedMs)} ms | of which \`parley admin enrol-supernode\` ${fmtMeasurement(deploy.adminCommandMs)} ms (a process start) |`,
  `| a supernode process's resident memory, idle → with ${fmt(deploy.clients)} clients attached over real TCP (secure links, keep-alives; ${fmt(deploy.refusedAttaches)} attaches refused by the per-address handshake rate and tried again) | ${fmt(deploy.idleRssMb)} MB → ${fmt(deploy.loadedRssMb)} MB: ${fmt(deploy.rssPerClientKb, 1)} KB per client | heap per client on the virtual network above: ${fmt(attachments.bytesPerClient / 1024, 1)} KB |`,
  `| CPU of that supernode process while ${fmt(deploy.clients)} clients keep alive | ${fmt(deploy.keepaliveCpuPercent, 2)}% of a core | |`,
  `| one Prometheus scrape of that supernode's /metrics (${fmt(deploy.clients)} clients attached; ${fmt(deploy.scrape.count)} in a row over HTTP on loopback) | ${fmtMeasurement(deploy.scrape.wallMs, 1)} ms, ${fmt(deploy.scrape.cpuMs, 1)} ms of the supernode's CPU, ${fmt(deploy.scrape.bytes / 1024, 1)} KiB | at one scrape every 15 s: ${fmt((deploy.scrape.cpuMs / 15_000) * 100, 3)}% of a core |`,
  '',
  ...underAttackLines(floods, amplification),
  '',
  ...keptLines(kept, 'simulator'),
  ...groupLines(groups.spread, groups.single),
  '',
  '## Reading these figures',
  '',
  `- **Handshakes.** One core doing *both* ends of an XX handshake reaches ${fmt(crypto.noiseXX.median)}/s, ${fmt(crypto.noiseXX.median / (crypto.dhPerSecond.median / 8) * 100)}% of what its 8 X25519 operations alone allow; the rest is hashing (SHA-256 and HMAC, one libsodium call each), AEAD and allocation: since issue 22 keys stay raw 32-byte values for libsodium (no JWK or DER import per operation, which cost more than half of a handshake before), see docs/protocol.md, "Primitives". A supernode only ever does the responder's share: ${fmt(crypto.noiseXXResponder.median)} XX or ${fmt(crypto.noiseIKResponder.median)} IK handshakes/s per core. A full Parley handshake adds two Ed25519 certificate checks (libsodium, ~${fmt(1e6 / crypto.verifyPerSecond.median)} µs each here, on raw keys; a verified certificate is cached).`,
  `- **Frames.** ChaChaPoly seals and opens are one libsodium call each (sodium-native; issue 22: node:crypto needed a \`createCipheriv\` per frame, ~4 µs, and reached about a quarter of today's rate); CipherState runs at ${fmt(crypto.seal.ChaChaPoly.median / crypto.rawSeal.ChaChaPoly.median * 100)}% of the bare AEAD call. AESGCM stays on node:crypto (only the test vectors use it). A whole channel message is ${fmt(crypto.channelFrames.median)}/s: protobuf encoding and decoding (reflective, @bufbuild/protobuf) cost about as much as the two AEAD calls.`,
  `- **Re-logins.** A re-login is two requests and, on PostgreSQL, two statements (the challenge: source lock, challenge window, device, eviction, insert; the answer: source lock, challenge use, device and user, login and serial), prepared once and written per dialect (src/login-server/store/relogin-queries.ts; issue 22: it was 20 statements built by Kysely, six of them BEGIN/COMMIT), an Ed25519 verification on the raw device key (libsodium), and two signatures (certificate, access token). The rest of a profile of the PostgreSQL run: the pg driver and its socket writes ~25% (inclusive), the in-process request harness and Fastify ~30%, Ed25519 ~15% (including the benchmark client's own signing); PostgreSQL's own CPU per re-login fell ~4×. \`node dist/bench/login-relogins.js postgres|sqlite\` runs this figure alone, with the CPU per re-login of the server and of PostgreSQL.`,
  `- **Overlay lookups.** A lookup to a supernode not yet linked costs a TCP connect, a Noise IK handshake and the request: three round trips for that hop, which is what the p99 shows; links are reused afterwards, so a warm overlay answers in about one round trip per hop. Attach bytes cover the overlay only; a first login to the login server adds its HTTPS exchange (not on the virtual network).`,
  `- **Chat.** Messages queued in the same turn share one sealed frame (up to 12 KiB) and one routed request; acknowledgements are cumulative and ride on the next frame or go alone after 5 ms. A message alone costs its frame, the routing request and its answer, the supernode-to-device delivery and its acknowledgement, and the end-to-end acknowledgement frame: ${fmt(chat.bytesForOneMessage)} B at the sender.`,
  `- **Virtual network.** The rate counts packets delivered to sockets, with the test's own handler work included. It reached the target after four changes found by profiling: destination addresses parsed once and cached, events without closures (recycled records), heap keys in typed arrays, and no copy of payloads on send.`,
  '',
];
const text = `${lines.join('\n')}\n`;
writeFileSync(BENCHMARKS_MD, text);
process.stdout.write(text);
process.exit(0); // sockets of the relay benchmark's clients may linger
