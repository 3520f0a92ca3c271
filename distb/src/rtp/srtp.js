// SRTP (RFC 3711) with the default suite AES_CM_128_HMAC_SHA1_80: AES-128 in counter mode for
// the payload, HMAC-SHA1 over header, payload and rollover counter, truncated to 10 bytes. Session
// keys come from a 16-byte master key and 14-byte master salt through the AES-CM key derivation
// (section 4.3, key derivation rate 0). The receiver estimates each packet's 48-bit index from
// its sequence number (Appendix A), checks the tag before anything else, and keeps a replay
// window per stream. Any standard SRTP stack (ffmpeg's, libsrtp) can read what this writes.
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { err, ok } from '../result.js';
import { ReplayWindow } from '../crypto/replay-window.js';
import { rtpHeaderLength } from './rtp.js';
export const SRTP_MASTER_KEY_BYTES = 16;
export const SRTP_MASTER_SALT_BYTES = 14;
export const SRTP_TAG_BYTES = 10;
/** The suite's name as SDP (RFC 4568) and ffmpeg call it. */
export const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80';
/** Streams (SSRCs) one receiving context follows: a call has one; more is a peer making us spend memory. */
const MAX_STREAMS = 4;
const REPLAY_WINDOW = 1024;
/** AES-CM as a PRF: `length` bytes of keystream under `key` from the 16-byte block `iv`. */
function keystream(key, iv, length) {
    const cipher = createCipheriv('aes-128-ctr', key, iv);
    return new Uint8Array(cipher.update(new Uint8Array(length)));
}
/** Section 4.3.1: the session key with `label`, from the master key and salt (key derivation rate 0). */
export function deriveSessionKey(masterKey, masterSalt, label, length) {
    const iv = new Uint8Array(16);
    iv.set(masterSalt, 0);
    // key_id = label || r (r = 0, 48 bits): the label lands in byte 7 of the 14-byte salt.
    iv[7] ^= label;
    return keystream(masterKey, iv, length);
}
export function deriveSrtpKeys(masterKey, masterSalt) {
    if (masterKey.length !== SRTP_MASTER_KEY_BYTES || masterSalt.length !== SRTP_MASTER_SALT_BYTES)
        throw new RangeError('SRTP needs a 16-byte master key and a 14-byte master salt');
    return {
        cipherKey: deriveSessionKey(masterKey, masterSalt, 0, 16),
        authKey: deriveSessionKey(masterKey, masterSalt, 1, 20),
        salt: deriveSessionKey(masterKey, masterSalt, 2, 14),
    };
}
/** Section 4.1.1: the counter block for packet `index` of stream `ssrc`. */
function packetIv(salt, ssrc, index) {
    const iv = new Uint8Array(16);
    iv.set(salt, 0);
    const view = new DataView(iv.buffer);
    view.setUint32(4, view.getUint32(4) ^ ssrc);
    // The 48-bit index sits in bytes 8-13.
    view.setUint16(8, view.getUint16(8) ^ Math.floor(index / 2 ** 32));
    view.setUint32(10, view.getUint32(10) ^ (index >>> 0));
    return iv;
}
function tag(keys, authenticated, roc) {
    const rocBytes = new Uint8Array(4);
    new DataView(rocBytes.buffer).setUint32(0, roc >>> 0);
    return new Uint8Array(createHmac('sha1', keys.authKey).update(authenticated).update(rocBytes).digest().subarray(0, SRTP_TAG_BYTES));
}
/** The keystream that covers packet `index` of stream `ssrc` (section 4.1.1). */
export function packetKeystream(keys, ssrc, index, length) {
    return keystream(keys.cipherKey, packetIv(keys.salt, ssrc, index), length);
}
/** Encrypts or decrypts (the same in counter mode) `packet` from `from` on, in place, for packet `index` of stream `ssrc`. */
function crypt(keys, packet, from, ssrc, index) {
    const cipher = createCipheriv('aes-128-ctr', keys.cipherKey, packetIv(keys.salt, ssrc, index));
    packet.set(cipher.update(packet.subarray(from)), from);
}
const ssrcOf = (packet) => new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(8);
const sequenceOf = (packet) => (packet[2] << 8) | packet[3];
/** The sending side of one direction: turns RTP packets into SRTP packets. */
export class SrtpSender {
    keys;
    streams = new Map();
    constructor(masterKey, masterSalt) {
        this.keys = deriveSrtpKeys(masterKey, masterSalt);
    }
    /** Protects one RTP packet (ours, so well formed); packets of a stream go in sequence order. */
    protect(rtp) {
        const headerLength = rtpHeaderLength(rtp);
        if (!headerLength.ok)
            throw new RangeError(`not an RTP packet: ${headerLength.error.message}`);
        const ssrc = ssrcOf(rtp);
        const sequence = sequenceOf(rtp);
        const stream = this.streams.get(ssrc) ?? { roc: 0, lastSequence: sequence };
        // The sequence number wrapped: the rollover counter counts it.
        if (sequence < stream.lastSequence && stream.lastSequence - sequence > 0x8000)
            stream.roc = (stream.roc + 1) >>> 0;
        stream.lastSequence = sequence;
        this.streams.set(ssrc, stream);
        const out = new Uint8Array(rtp.length + SRTP_TAG_BYTES);
        out.set(rtp);
        const body = out.subarray(0, rtp.length);
        crypt(this.keys, body, headerLength.value, ssrc, stream.roc * 0x10000 + sequence);
        out.set(tag(this.keys, body, stream.roc), rtp.length);
        return out;
    }
}
/** The receiving side of one direction: checks and decrypts SRTP packets into RTP packets. */
export class SrtpReceiver {
    keys;
    streams = new Map();
    constructor(masterKey, masterSalt) {
        this.keys = deriveSrtpKeys(masterKey, masterSalt);
    }
    unprotect(srtp) {
        if (srtp.length < 12 + SRTP_TAG_BYTES)
            return err({ code: 'truncated', message: `${srtp.length} bytes is too short for SRTP` });
        const body = srtp.subarray(0, srtp.length - SRTP_TAG_BYTES);
        const headerLength = rtpHeaderLength(body);
        if (!headerLength.ok)
            return err({ code: 'bad_header', message: headerLength.error.message });
        const ssrc = ssrcOf(body);
        const sequence = sequenceOf(body);
        const known = this.streams.get(ssrc);
        if (!known && this.streams.size >= MAX_STREAMS)
            return err({ code: 'too_many_streams', message: `more than ${MAX_STREAMS} SRTP streams` });
        // Appendix A: the rollover counter this packet most likely belongs to, given the highest sequence seen.
        const roc = known?.roc ?? 0;
        const highest = known?.highest ?? sequence;
        let guess = roc;
        if (highest < 0x8000) {
            if (sequence - highest > 0x8000)
                guess = roc - 1;
        }
        else if (highest - 0x8000 > sequence) {
            guess = roc + 1;
        }
        if (guess < 0)
            return err({ code: 'too_old', message: 'a packet from before the stream began' });
        const index = guess * 0x10000 + sequence;
        const window = known?.window ?? new ReplayWindow(REPLAY_WINDOW);
        const verdict = window.check(index);
        if (verdict !== 'fresh')
            return err({ code: verdict, message: `packet ${index} is ${verdict === 'replayed' ? 'a replay' : 'older than the replay window'}` });
        const expected = tag(this.keys, body, guess);
        if (!timingSafeEqual(expected, srtp.subarray(srtp.length - SRTP_TAG_BYTES)))
            return err({ code: 'auth_failed', message: 'the SRTP tag does not match' });
        // Only an authentic packet moves the stream's state.
        window.accept(index);
        if (!known)
            this.streams.set(ssrc, { roc: guess, highest: sequence, window });
        else if (guess > known.roc || (guess === known.roc && sequence > known.highest)) {
            known.roc = guess;
            known.highest = sequence;
        }
        const rtp = body.slice();
        crypt(this.keys, rtp, headerLength.value, ssrc, index);
        return ok(rtp);
    }
}
/** SRTCP (section 3.4): the same suite over RTCP, with keys of labels 3-5 and an explicit 31-bit index. */
function deriveSrtcpKeys(masterKey, masterSalt) {
    if (masterKey.length !== SRTP_MASTER_KEY_BYTES || masterSalt.length !== SRTP_MASTER_SALT_BYTES)
        throw new RangeError('SRTCP needs a 16-byte master key and a 14-byte master salt');
    return { cipherKey: deriveSessionKey(masterKey, masterSalt, 3, 16), authKey: deriveSessionKey(masterKey, masterSalt, 4, 20), salt: deriveSessionKey(masterKey, masterSalt, 5, 14) };
}
const RTCP_HEADER_BYTES = 8;
function rtcpTag(keys, authenticated) {
    return new Uint8Array(createHmac('sha1', keys.authKey).update(authenticated).digest().subarray(0, SRTP_TAG_BYTES));
}
export class SrtcpSender {
    keys;
    index = 0;
    constructor(masterKey, masterSalt) {
        this.keys = deriveSrtcpKeys(masterKey, masterSalt);
    }
    protect(rtcp) {
        if (rtcp.length < RTCP_HEADER_BYTES)
            throw new RangeError('not an RTCP packet');
        const index = this.index;
        this.index = (this.index + 1) & 0x7fffffff;
        const out = new Uint8Array(rtcp.length + 4 + SRTP_TAG_BYTES);
        out.set(rtcp);
        crypt(this.keys, out.subarray(0, rtcp.length), RTCP_HEADER_BYTES, ssrcOfRtcp(out), index);
        // E flag (encrypted) and the index.
        new DataView(out.buffer).setUint32(rtcp.length, (0x80000000 | index) >>> 0);
        out.set(rtcpTag(this.keys, out.subarray(0, rtcp.length + 4)), rtcp.length + 4);
        return out;
    }
}
const ssrcOfRtcp = (packet) => new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(4);
export class SrtcpReceiver {
    keys;
    window = new ReplayWindow(REPLAY_WINDOW);
    constructor(masterKey, masterSalt) {
        this.keys = deriveSrtcpKeys(masterKey, masterSalt);
    }
    unprotect(srtcp) {
        if (srtcp.length < RTCP_HEADER_BYTES + 4 + SRTP_TAG_BYTES)
            return err({ code: 'truncated', message: `${srtcp.length} bytes is too short for SRTCP` });
        const tagAt = srtcp.length - SRTP_TAG_BYTES;
        const view = new DataView(srtcp.buffer, srtcp.byteOffset, srtcp.byteLength);
        const word = view.getUint32(tagAt - 4);
        const index = word & 0x7fffffff;
        const verdict = this.window.check(index);
        if (verdict !== 'fresh')
            return err({ code: verdict, message: `SRTCP packet ${index} is ${verdict}` });
        if (!timingSafeEqual(rtcpTag(this.keys, srtcp.subarray(0, tagAt)), srtcp.subarray(tagAt)))
            return err({ code: 'auth_failed', message: 'the SRTCP tag does not match' });
        this.window.accept(index);
        const rtcp = srtcp.slice(0, tagAt - 4);
        if (word & 0x80000000)
            crypt(this.keys, rtcp, RTCP_HEADER_BYTES, ssrcOfRtcp(rtcp), index);
        return ok(rtcp);
    }
}
//# sourceMappingURL=srtp.js.map