// The feedback loop: RTCP sender reports in SRTCP, once a second each way, over the same path as
// the media. On a clean path the bitrate climbs to its ceiling and the round trip is measured;
// on a lossy one the loss is reported, the bitrate falls and FEC turns on, which rebuilds lost
// frames. The reports, SRTCP and the E-model are checked on their own too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { BufferSource, MediaReceiver, MediaSender, RecordingSink } from '../../src/media/media-stream.js';
import { CallQuality, estimateMos, MAX_BITRATE, MIN_BITRATE, nextBitrate } from '../../src/media/call-quality.js';
import { testSignal } from '../../src/media/audio-compare.js';
import { decodeReport, encodeReport, isRtcp } from '../../src/rtp/rtcp.js';
import { SrtcpReceiver, SrtcpSender } from '../../src/rtp/srtp.js';
import { testSeed, withSeed } from '../support/seed.js';
async function twoWayCall(seed, lossRate, seconds) {
    const network = new VirtualNetwork(seed);
    const drive = (work) => network.scheduler.drive(work, 600_000);
    const hosts = [network.addHost({ link: { latencyMs: 10, lossRate } }), network.addHost({ link: { latencyMs: 10 } })];
    const sockets = await drive(Promise.all(hosts.map((h) => h.env().net.bindUdp({ port: 0 }))));
    const keys = hosts.map((h) => ({ key: h.env().random.bytes(16), salt: h.env().random.bytes(14) }));
    const ends = hosts.map((host, i) => {
        const env = host.env();
        const other = { host: hosts[1 - i].addressText, port: sockets[1 - i].local.port };
        const path = { send: (bytes) => sockets[i].send(bytes, other) };
        const sender = new MediaSender(env.clock, env.random, path, keys[i], new BufferSource(testSignal(seconds, i + 1)), { frameMs: 20 });
        const receiver = new MediaReceiver(env.clock, keys[1 - i], new RecordingSink(), { frameMs: 20 });
        const quality = new CallQuality(env.clock, path, keys[i], keys[1 - i], sender, receiver);
        sockets[i].onMessage((bytes) => (isRtcp(bytes) ? quality.receive(bytes) : receiver.receive(bytes)));
        sender.start();
        quality.start();
        return { sender, receiver, quality };
    });
    await drive(new Promise((resolve) => network.scheduler.after(seconds * 1000, resolve)));
    for (const e of ends) {
        e.quality.stop();
        e.sender.stop();
        e.receiver.stop();
    }
    return ends;
}
test('a clean path: reports each way every second, the round trip measured, the bitrate up to its ceiling, no FEC', () => withSeed(testSeed(), async (seed) => {
    const [a, b] = await twoWayCall(seed, 0, 12);
    for (const end of [a, b]) {
        assert.ok(end.quality.figures.reportsReceived >= 10, `${end.quality.figures.reportsReceived} reports`);
        // Two 10 ms links each way: 40 ms round trip.
        assert.ok(end.quality.figures.rttMs !== null && Math.abs(end.quality.figures.rttMs - 40) < 2, `RTT ${end.quality.figures.rttMs}`);
        assert.equal(end.quality.figures.lossPercent, 0);
        assert.equal(end.sender.bitrate, MAX_BITRATE);
        assert.equal(end.quality.refused, 0);
    }
}));
test('a lossy path: the loss is reported, the sender lowers its bitrate and adds FEC, and lost frames are rebuilt', () => withSeed(testSeed(), async (seed) => {
    const [a, b] = await twoWayCall(seed, 0.15, 12);
    // A's link loses 15% each way; each side reports what it lost of the other's stream.
    for (const end of [a, b]) {
        assert.ok(end.quality.figures.lossPercent > 8 && end.quality.figures.lossPercent < 25, `loss ${end.quality.figures.lossPercent}`);
        assert.ok(end.sender.bitrate < 24_000, `bitrate ${end.sender.bitrate}`);
        assert.ok(end.receiver.stats.jitter.recovered > 0, `FEC rebuilt ${end.receiver.stats.jitter.recovered} frames`);
    }
}));
test('RTCP reports and SRTCP round-trip; forgeries and replays are refused; decoders take any bytes', () => {
    const report = { ssrc: 7, sender: { ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 }, blocks: [{ ssrc: 9, fractionLost: 25, cumulativeLost: 1000, highestSequence: 70_000, jitter: 480, lastSr: 123, delaySinceLastSr: 456 }] };
    const encoded = encodeReport(report);
    assert.ok(isRtcp(encoded));
    assert.deepEqual(decodeReport(encoded), { ok: true, value: report });
    const key = new Uint8Array(16).fill(1);
    const salt = new Uint8Array(14).fill(2);
    const out = new SrtcpSender(key, salt);
    const into = new SrtcpReceiver(key, salt);
    const sealed = out.protect(encoded);
    assert.equal(Buffer.from(sealed).includes(Buffer.from(encoded.subarray(8, 28))), false, 'the report is encrypted');
    const opened = into.unprotect(sealed);
    assert.ok(opened.ok);
    assert.deepEqual(opened.value, encoded);
    assert.equal(into.unprotect(sealed).ok, false, 'a replay');
    const forged = out.protect(encoded);
    forged[10] ^= 1;
    assert.equal(into.unprotect(forged).ok, false, 'a forgery');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        assert.equal(typeof decodeReport(bytes).ok, 'boolean');
        assert.equal(typeof into.unprotect(bytes).ok, 'boolean');
    }), { numRuns: 400 });
});
test('the bitrate rule and the E-model: loss lowers both, delay lowers the MOS past about 177 ms', () => {
    assert.equal(nextBitrate(24_000, 15), 19_200);
    assert.equal(nextBitrate(24_000, 5), 24_000);
    assert.equal(nextBitrate(24_000, 0), 25_200);
    assert.equal(nextBitrate(MIN_BITRATE, 50), MIN_BITRATE);
    const clean = estimateMos(30, 0, 24_000);
    assert.ok(clean > 4.3 && clean <= 4.5, `clean ${clean}`);
    assert.ok(estimateMos(30, 5, 24_000) < clean - 0.5);
    assert.ok(estimateMos(300, 0, 24_000) < estimateMos(150, 0, 24_000) - 0.3);
    assert.ok(estimateMos(30, 0, 12_000) < clean);
});
//# sourceMappingURL=call-quality.test.js.map