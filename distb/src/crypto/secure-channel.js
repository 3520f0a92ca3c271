// The secure channel between two Parley nodes, as a state machine with no I/O: fed stream
// bytes, it returns what to write and what happened. A Noise handshake (XX for first contact,
// IK when the initiator knows the responder's static key) carries protocol version
// negotiation and both certificates; each side checks the peer's certificate against the
// network CA and that the certificate's DH key is the Noise static key the peer proved it
// holds (channel binding). Then every frame is AEAD-protected with an implicit counter nonce,
// so a replayed, reordered, forged or truncated frame fails authentication and ends the channel.
// See docs/protocol.md for the byte layout.
import { create } from '@bufbuild/protobuf';
import { FrameDecoder, MAX_FRAME_BYTES, encodeFrame } from '../wire/framing.js';
import { CloseReason, CloseSchema, HandshakePayloadSchema, RejectReason, SUPPORTED_VERSIONS, decodeEnvelope, decodeHandshakePayload, encodeEnvelope, encodeHandshakePayload, } from '../wire/messages.js';
import { equalBytes } from './bytes.js';
import { HandshakeState } from './noise/handshake-state.js';
/** "PRL", preamble version 1, then the pattern: lets one port tell Parley from anything else. */
const PREAMBLE = [0x50, 0x52, 0x4c, 0x01];
const PATTERN_CODES = { XX: 1, IK: 2 };
const PREAMBLE_BYTES = PREAMBLE.length + 1;
/** Handshake frames are small; a large one before authentication is refused unread. */
export const MAX_HANDSHAKE_FRAME_BYTES = 4096;
const NO_AD = new Uint8Array(0);
export class SecureChannel {
    role;
    config;
    state = 'idle';
    handshake = null;
    send = null;
    receive = null;
    frames = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    versions;
    version = 0;
    peerCertificate = null;
    constructor(role, config) {
        this.role = role;
        this.config = config;
        this.versions = config.versions ?? SUPPORTED_VERSIONS;
    }
    get isEstablished() {
        return this.state === 'established';
    }
    get isClosed() {
        return this.state === 'closed';
    }
    get peer() {
        return this.peerCertificate;
    }
    newHandshake(pattern, initiator) {
        return new HandshakeState({
            pattern,
            cipher: this.config.cipher ?? 'ChaChaPoly',
            initiator,
            // The prologue binds the handshake to the preamble, so a downgrade of the pattern fails.
            prologue: Uint8Array.of(...PREAMBLE, PATTERN_CODES[pattern]),
            staticKeyPair: this.config.identity.dh,
            ...(initiator && this.config.remoteStaticKey ? { remoteStaticKey: this.config.remoteStaticKey } : {}),
            random: this.config.random,
        });
    }
    /** Initiator: the first handshake message. */
    start() {
        if (this.role !== 'initiator' || this.state !== 'idle')
            throw new Error('start() is for an idle initiator');
        const pattern = this.config.remoteStaticKey ? 'IK' : 'XX';
        this.handshake = this.newHandshake(pattern, true);
        this.state = 'handshake';
        // XX's first payload travels in clear: no certificate there, only versions and network.
        const payload = encodeHandshakePayload({
            versions: [...this.versions],
            networkId: this.config.verifier.networkId,
            ...(pattern === 'IK' ? { certificate: this.config.identity.certificate } : {}),
        });
        const message = this.handshake.writeMessage(payload);
        if (!message.ok)
            return this.fail('handshake_failed', message.error.message);
        const frame = new Uint8Array(PREAMBLE_BYTES + message.value.byteLength);
        frame.set([...PREAMBLE, PATTERN_CODES[pattern]]);
        frame.set(message.value, PREAMBLE_BYTES);
        return [{ kind: 'write', bytes: encodeFrame(frame) }];
    }
    /** Feeds bytes from the transport. */
    receiveBytes(chunk) {
        if (this.state === 'closed')
            return [];
        this.frames.append(chunk);
        const outputs = [];
        // One frame at a time: the handshake's end raises the frame limit for what follows it.
        while (!this.isClosed) {
            const frame = this.frames.next();
            if (!frame.ok)
                return [...outputs, ...this.fail('bad_frame', frame.error.message)];
            if (frame.value === null)
                break;
            outputs.push(...this.receiveFrame(frame.value));
        }
        return outputs;
    }
    /** Sends a message on an established channel. */
    sendMessage(body) {
        if (this.state !== 'established')
            return this.state === 'closed' ? [] : this.fail('not_established', 'send before the handshake finished');
        return [{ kind: 'write', bytes: encodeFrame(this.send.encryptWithAd(NO_AD, encodeEnvelope(body))) }];
    }
    /** Closes, telling the peer why when the channel is established. */
    close(reason = CloseReason.NORMAL, detail = '') {
        if (this.state === 'closed')
            return [];
        const outputs = this.state === 'established' ? this.sendMessage({ case: 'close', value: create(CloseSchema, { reason, detail }) }) : [];
        this.state = 'closed';
        return [...outputs, { kind: 'closed', error: null }];
    }
    /** Ends the channel from outside (e.g. a handshake timeout owned by the adapter). */
    abort(code, message) {
        if (this.state === 'closed')
            return [];
        return this.fail(code, message);
    }
    /** The transport ended. */
    transportClosed() {
        if (this.state === 'closed')
            return [];
        return this.fail('connection_lost', 'the connection ended');
    }
    fail(code, message, extra = {}, before = []) {
        this.state = 'closed';
        return [...before, { kind: 'closed', error: { code, message, ...extra } }];
    }
    receiveFrame(frame) {
        if (this.state === 'established')
            return this.receiveTransport(frame);
        if (this.role === 'responder' && this.state === 'idle')
            return this.receiveFirst(frame);
        return this.receiveHandshake(frame);
    }
    receiveFirst(frame) {
        const preambleOk = frame.byteLength >= PREAMBLE_BYTES && PREAMBLE.every((byte, i) => frame[i] === byte);
        const pattern = Object.keys(PATTERN_CODES).find((p) => PATTERN_CODES[p] === frame[PREAMBLE.length]);
        if (!preambleOk || !pattern)
            return this.fail('bad_preamble', 'not a Parley channel or an unknown handshake pattern');
        this.handshake = this.newHandshake(pattern, false);
        this.state = 'handshake';
        return this.receiveHandshake(frame.subarray(PREAMBLE_BYTES));
    }
    receiveHandshake(message) {
        const handshake = this.handshake;
        const read = handshake.readMessage(message);
        if (!read.ok)
            return this.fail('handshake_failed', read.error.message);
        const payload = decodeHandshakePayload(read.value);
        if (!payload.ok)
            return this.fail('malformed_handshake', payload.error.message);
        return this.role === 'responder' ? this.responderReads(payload.value) : this.initiatorReads(payload.value);
    }
    /** Checks a peer certificate and its binding to the Noise static key the peer proved. */
    checkPeer(certificate) {
        const verified = this.config.verifier.verify(certificate, this.config.wallTimeMs());
        if (!verified.ok) {
            const code = verified.error.code === 'wrong_network' ? 'wrong_network' : 'bad_certificate';
            const reason = code === 'wrong_network' ? RejectReason.WRONG_NETWORK : RejectReason.BAD_CERTIFICATE;
            return { ok: false, reason, outputs: this.fail(code, `peer certificate: ${verified.error.message}`, { certificateError: verified.error.code }) };
        }
        const proven = this.handshake.remoteStaticKey;
        if (!proven || !equalBytes(proven, verified.value.dhKey)) {
            return { ok: false, reason: RejectReason.BAD_CERTIFICATE, outputs: this.fail('key_mismatch', 'peer certificate is for another key') };
        }
        return { ok: true, peer: verified.value };
    }
    writeHandshake(payload) {
        const message = this.handshake.writeMessage(encodeHandshakePayload(payload));
        return message.ok ? encodeFrame(message.value) : null;
    }
    /** Responder: tells the initiator why it stops, inside the next handshake message. */
    reject(reason, failure) {
        const frame = this.writeHandshake({ reject: reason });
        return frame ? [{ kind: 'write', bytes: frame }, ...failure] : failure;
    }
    responderReads(payload) {
        const handshake = this.handshake;
        if (handshake.isFinished()) {
            // XX message 3: the initiator's certificate.
            const checked = this.checkPeer(payload.certificate);
            if (!checked.ok) {
                this.adoptTransport();
                this.state = 'established';
                const notice = this.sendMessage({ case: 'close', value: create(CloseSchema, { reason: CloseReason.BAD_CERTIFICATE }) });
                this.state = 'closed';
                return [...notice, ...checked.outputs];
            }
            return this.establish(checked.peer);
        }
        // First message (XX or IK): network and versions, and for IK the certificate.
        if (!equalBytes(payload.networkId, this.config.verifier.networkId)) {
            return this.reject(RejectReason.WRONG_NETWORK, this.fail('wrong_network', 'initiator belongs to another network'));
        }
        const common = payload.versions.filter((v) => this.versions.includes(v));
        if (common.length === 0) {
            return this.reject(RejectReason.UNSUPPORTED_VERSION, this.fail('unsupported_version', `initiator speaks versions ${payload.versions.join(',') || 'none'}`));
        }
        this.version = Math.max(...common);
        let peer = null;
        if (handshake.remoteStaticKey) {
            const checked = this.checkPeer(payload.certificate);
            if (!checked.ok)
                return this.reject(checked.reason, checked.outputs);
            peer = checked.peer;
        }
        const frame = this.writeHandshake({ chosenVersion: this.version, certificate: this.config.identity.certificate });
        if (!frame)
            return this.fail('handshake_failed', 'could not write the handshake response');
        const outputs = [{ kind: 'write', bytes: frame }];
        if (handshake.isFinished() && peer)
            outputs.push(...this.establish(peer));
        return outputs;
    }
    initiatorReads(payload) {
        if (payload.reject !== RejectReason.UNSPECIFIED) {
            return this.fail('rejected', `responder refused: ${RejectReason[payload.reject] ?? payload.reject}`, { rejectReason: payload.reject });
        }
        if (!this.versions.includes(payload.chosenVersion)) {
            return this.fail('unsupported_version', `responder chose version ${payload.chosenVersion}`);
        }
        this.version = payload.chosenVersion;
        const checked = this.checkPeer(payload.certificate);
        if (!checked.ok)
            return checked.outputs;
        const handshake = this.handshake;
        if (handshake.isFinished())
            return this.establish(checked.peer); // IK
        const frame = this.writeHandshake({ certificate: this.config.identity.certificate }); // XX message 3
        if (!frame)
            return this.fail('handshake_failed', 'could not write the final handshake message');
        return [{ kind: 'write', bytes: frame }, ...this.establish(checked.peer)];
    }
    adoptTransport() {
        const keys = this.handshake.result;
        this.send = keys.send;
        this.receive = keys.receive;
    }
    establish(peer) {
        this.adoptTransport();
        const handshakeHash = this.handshake.result.handshakeHash;
        this.handshake = null;
        this.peerCertificate = peer;
        this.state = 'established';
        this.frames.setMaxFrameBytes(MAX_FRAME_BYTES);
        return [{ kind: 'established', peer, version: this.version, handshakeHash }];
    }
    receiveTransport(frame) {
        const plaintext = this.receive.decryptWithAd(NO_AD, frame);
        if (!plaintext)
            return this.fail('decrypt_failed', 'frame failed authentication (forged, replayed or reordered)');
        const envelope = decodeEnvelope(plaintext);
        if (!envelope.ok)
            return this.fail('malformed_message', envelope.error.message);
        if (envelope.value.body.case === 'close') {
            const close = envelope.value.body.value;
            if (close.reason === CloseReason.NORMAL) {
                this.state = 'closed';
                return [{ kind: 'closed', error: null }];
            }
            return this.fail('peer_closed', close.detail || `peer closed: ${CloseReason[close.reason] ?? close.reason}`, { closeReason: close.reason });
        }
        return [{ kind: 'message', envelope: envelope.value }];
    }
}
//# sourceMappingURL=secure-channel.js.map