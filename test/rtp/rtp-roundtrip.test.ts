// decode(encode(x)) is x for RTP packets, RTCP sender and receiver reports, and SRTP/SRTCP
// (unprotect(protect(p)) is p, across sequence-number wraps and for several streams at once).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeRtp, encodeRtp, type RtpPacket } from '../../src/rtp/rtp.js';
import { decodeReport, encodeReport, type RtcpReport } from '../../src/rtp/rtcp.js';
import { SrtcpReceiver, SrtcpSender, SrtpReceiver, SrtpSender } from '../../src/rtp/srtp.js';

const u32 = fc.nat({ max: 0xffffffff });
const packets: fc.Arbitrary<RtpPacket> = fc.record({
  marker: fc.boolean(),
  payloadType: fc.nat({ max: 127 }),
  sequence: fc.nat({ max: 0xffff }),
  timestamp: u32,
  ssrc: u32,
  csrcs: fc.array(u32, { maxLength: 15 }),
  payload: fc.uint8Array({ maxLength: 200 }),
});
const plain = (packet: RtpPacket) => ({ ...packet, csrcs: [...packet.csrcs], payload: Uint8Array.from(packet.payload) });

test('RTP packets round-trip with up to 15 CSRCs; more is refused, not written over the header bits', () => {
  fc.assert(
    fc.property(packets, (packet) => {
      const decoded = decodeRtp(encodeRtp(packet));
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
      assert.deepEqual(plain(decoded.value), plain(packet));
    }),
  );
  assert.throws(() => encodeRtp({ marker: false, payloadType: 111, sequence: 1, timestamp: 1, ssrc: 1, csrcs: new Array<number>(16).fill(7), payload: new Uint8Array(4) }), RangeError);
});

const blocks = fc.record({
  ssrc: u32,
  fractionLost: fc.nat({ max: 255 }),
  cumulativeLost: fc.nat({ max: 0x7fffff }),
  highestSequence: u32,
  jitter: u32,
  lastSr: u32,
  delaySinceLastSr: u32,
});
const reports: fc.Arbitrary<RtcpReport> = fc.record({
  ssrc: u32,
  sender: fc.option(fc.record({ ntpSeconds: u32, ntpFraction: u32, rtpTimestamp: u32, packetCount: u32, octetCount: u32 }), { nil: null }),
  blocks: fc.array(blocks, { maxLength: 31 }),
});

test('RTCP sender and receiver reports round-trip with up to 31 report blocks', () => {
  fc.assert(
    fc.property(reports, (report) => {
      const decoded = decodeReport(encodeReport(report));
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
      assert.deepEqual(decoded.value, { ...report, sender: report.sender && { ...report.sender }, blocks: report.blocks.map((b) => ({ ...b })) });
    }),
  );
});

const masterKey = fc.uint8Array({ minLength: 16, maxLength: 16 });
const masterSalt = fc.uint8Array({ minLength: 14, maxLength: 14 });

test('SRTP gives back each packet of each stream, in order, across sequence-number wraps', () => {
  // A few streams, each a run of consecutive sequence numbers from a random start (so some wrap), interleaved.
  const streams = fc.array(fc.record({ ssrc: u32, first: fc.nat({ max: 0xffff }), count: fc.integer({ min: 1, max: 40 }) }), { minLength: 1, maxLength: 3 }).filter((s) => new Set(s.map((x) => x.ssrc)).size === s.length);
  fc.assert(
    fc.property(masterKey, masterSalt, streams, packets, fc.infiniteStream(fc.nat()), (key, salt, chosen, template, picks) => {
      const sender = new SrtpSender(key, salt);
      const receiver = new SrtpReceiver(key, salt);
      const next = chosen.map(() => 0);
      const pick = picks[Symbol.iterator]();
      for (;;) {
        const open = chosen.flatMap((s, i) => (next[i]! < s.count ? [i] : []));
        if (open.length === 0) break;
        const i = open[pick.next().value % open.length]!;
        const stream = chosen[i]!;
        const packet = encodeRtp({ ...template, ssrc: stream.ssrc, sequence: (stream.first + next[i]!) & 0xffff });
        next[i]!++;
        const back = receiver.unprotect(sender.protect(packet));
        assert.ok(back.ok, back.ok ? '' : back.error.message);
        assert.deepEqual(back.value, packet);
      }
    }),
    { numRuns: 60 },
  );
});

test('SRTCP gives back each report', () => {
  fc.assert(
    fc.property(masterKey, masterSalt, fc.array(reports, { minLength: 1, maxLength: 5 }), (key, salt, sent) => {
      const sender = new SrtcpSender(key, salt);
      const receiver = new SrtcpReceiver(key, salt);
      for (const report of sent) {
        const rtcp = encodeReport(report);
        const back = receiver.unprotect(sender.protect(rtcp));
        assert.ok(back.ok, back.ok ? '' : back.error.message);
        assert.deepEqual(back.value, rtcp);
      }
    }),
    { numRuns: 60 },
  );
});
