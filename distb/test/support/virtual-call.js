// One direction of a call's audio on the virtual network, for the media tests: a test signal
// from host A to a recording on host B over UDP, with the link's loss and jitter on A's side.
// Returns what was sent (SRTP packets) and heard, their delay and spectral similarity.
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { BufferSource, MediaReceiver, MediaSender, RecordingSink } from '../../src/media/media-stream.js';
import { findDelay, spectralSimilarity, testSignal } from '../../src/media/audio-compare.js';
import { stallingClock } from './stalling-clock.js';
export async function virtualCall(seed, link, options = {}) {
    const seconds = options.seconds ?? 4;
    const network = new VirtualNetwork(seed);
    const drive = (work) => network.scheduler.drive(work, 600_000);
    const elapse = (ms) => drive(new Promise((resolve) => network.scheduler.after(ms, resolve)));
    const a = network.addHost({ link: { latencyMs: 10, jitterMs: link.jitterMs, lossRate: link.lossRate } });
    const b = network.addHost({ link: { latencyMs: 10 } });
    const [sockA, sockB] = await drive(Promise.all([a.env().net.bindUdp({ port: 0 }), b.env().net.bindUdp({ port: 0 })]));
    const key = { key: a.env().random.bytes(16), salt: a.env().random.bytes(14) };
    const input = testSignal(seconds, seed);
    const sink = new RecordingSink(b.env().clock.now());
    const frameMs = options.frameMs ?? 20;
    const start = network.scheduler.now();
    const stalled = (stalls) => (stalls ?? []).map((s) => ({ atMs: start + s.atMs, forMs: s.forMs }));
    const receiverClock = stallingClock(b.env().clock, stalled(options.receiverStalls));
    const receiver = new MediaReceiver(receiverClock, key, sink, { frameMs });
    // A busy loop reads no socket either: what arrives meanwhile is read when it is free, after the timers due.
    if (options.receiverStalls)
        sockB.onMessage((bytes) => receiverClock.after(0, () => receiver.receive(bytes)));
    else
        sockB.onMessage((bytes) => receiver.receive(bytes));
    const sent = [];
    const sender = new MediaSender(stallingClock(a.env().clock, stalled(options.senderStalls)), a.env().random, { send: (bytes) => (sent.push(bytes), sockA.send(bytes, { host: b.addressText, port: sockB.local.port })) }, key, new BufferSource(input), { frameMs });
    if (options.fec)
        sender.setExpectedLoss(Math.round(link.lossRate * 100));
    sender.start();
    if (options.holdFromMs !== undefined) {
        await elapse(options.holdFromMs);
        sender.hold(true);
        await elapse(options.holdForMs ?? 0);
        // Attacks on the receiver while it is held: a replay of the first packet, two forgeries, a runt.
        const first = sent[0];
        const forged = first.slice();
        forged[3] ^= 0x40; // another sequence number: fresh for the replay window, but the tag no longer matches
        const noise = a.env().random.bytes(80);
        noise[0] = 0x80; // looks like RTP version 2
        const target = { host: b.addressText, port: sockB.local.port };
        for (const bytes of [first, forged, noise, new Uint8Array(5)])
            sockA.send(bytes, target);
        await elapse(100);
    }
    else {
        await elapse(seconds * 1000 + 400);
    }
    sender.stop();
    receiver.stop();
    const output = sink.samples();
    const { delayMs, correlation } = findDelay(input, output, 500);
    return { key, delayMs, correlation, similarity: spectralSimilarity(input, output, delayMs), sender, receiver, sent, input, output, elapse, network, sockA: sockA, sockB: sockB, bAddress: b.addressText };
}
//# sourceMappingURL=virtual-call.js.map