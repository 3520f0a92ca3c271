import { err, ok } from '../../result.js';
import { concatBytes } from '../bytes.js';
import { generateX25519KeyPair, x25519, x25519PublicKey, X25519_KEY_BYTES } from '../x25519.js';
import { TAG_BYTES } from './cipher-state.js';
import { SymmetricState } from './symmetric-state.js';
const PATTERNS = {
    XX: { responderStaticPreMessage: false, messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']] },
    IK: { responderStaticPreMessage: true, messages: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']] },
};
export class HandshakeState {
    options;
    symmetric;
    pattern;
    s;
    e = null;
    rs;
    re = null;
    // Peer keys imported once each: a handshake uses each of them in two DH operations.
    reKey = null;
    rsKey = null;
    messageIndex = 0;
    transport = null;
    constructor(options) {
        this.options = options;
        this.pattern = PATTERNS[options.pattern];
        this.symmetric = new SymmetricState(`Noise_${options.pattern}_25519_${options.cipher}_SHA256`, options.cipher);
        this.symmetric.mixHash(options.prologue);
        this.s = options.staticKeyPair;
        this.rs = options.remoteStaticKey ?? null;
        if (this.pattern.responderStaticPreMessage) {
            const responderStatic = options.initiator ? this.rs : this.s.publicKey;
            if (!responderStatic)
                throw new Error(`${options.pattern} initiator needs the responder's static key`);
            this.symmetric.mixHash(responderStatic);
        }
    }
    get protocolName() {
        return this.symmetric.protocolName;
    }
    /** The peer's static public key, once a message carrying it was read. */
    get remoteStaticKey() {
        return this.rs;
    }
    get handshakeHash() {
        return this.symmetric.handshakeHash;
    }
    isMyTurn() {
        return this.transport === null && this.messageIndex % 2 === (this.options.initiator ? 0 : 1);
    }
    isFinished() {
        return this.transport !== null;
    }
    /** The transport keys, once the last message was written or read. */
    get result() {
        return this.transport;
    }
    dh(token) {
        const initiator = this.options.initiator;
        // 'es' is DH(initiator e, responder s); from the responder's side that is DH(s, re).
        const [localKey, remoteKey] = (() => {
            switch (token) {
                case 'ee':
                    return [this.e, this.re];
                case 'ss':
                    return [this.s, this.rs];
                case 'es':
                    return initiator ? [this.e, this.rs] : [this.s, this.re];
                case 'se':
                    return initiator ? [this.s, this.re] : [this.e, this.rs];
            }
        })();
        if (!localKey || !remoteKey)
            return null;
        const imported = remoteKey === this.re ? (this.reKey ??= x25519PublicKey(remoteKey)) : (this.rsKey ??= x25519PublicKey(remoteKey));
        return imported ? x25519(localKey.privateKey, imported) : null;
    }
    writeMessage(payload) {
        if (this.transport)
            return err({ code: 'finished', message: 'handshake already finished' });
        if (!this.isMyTurn())
            return err({ code: 'out_of_turn', message: 'not our turn to write' });
        const parts = [];
        for (const token of this.pattern.messages[this.messageIndex]) {
            if (token === 'e') {
                this.e = this.options.ephemeralKeyPair ?? generateX25519KeyPair(this.options.random);
                parts.push(this.e.publicKey);
                this.symmetric.mixHash(this.e.publicKey);
            }
            else if (token === 's') {
                parts.push(this.symmetric.encryptAndHash(this.s.publicKey));
            }
            else {
                const shared = this.dh(token);
                if (!shared)
                    return err({ code: 'invalid_key', message: `DH ${token} failed` });
                this.symmetric.mixKey(shared);
            }
        }
        parts.push(this.symmetric.encryptAndHash(payload));
        this.advance();
        return ok(concatBytes(...parts));
    }
    readMessage(message) {
        if (this.transport)
            return err({ code: 'finished', message: 'handshake already finished' });
        if (this.isMyTurn())
            return err({ code: 'out_of_turn', message: 'not our turn to read' });
        let offset = 0;
        for (const token of this.pattern.messages[this.messageIndex]) {
            if (token === 'e') {
                if (message.byteLength - offset < X25519_KEY_BYTES)
                    return err({ code: 'truncated', message: 'message too short for an ephemeral key' });
                this.re = message.slice(offset, offset + X25519_KEY_BYTES);
                offset += X25519_KEY_BYTES;
                this.symmetric.mixHash(this.re);
            }
            else if (token === 's') {
                const length = X25519_KEY_BYTES + (this.symmetric.hasKey() ? TAG_BYTES : 0);
                if (message.byteLength - offset < length)
                    return err({ code: 'truncated', message: 'message too short for a static key' });
                const rs = this.symmetric.decryptAndHash(message.subarray(offset, offset + length));
                if (!rs)
                    return err({ code: 'decrypt_failed', message: 'static key failed authentication' });
                this.rs = rs;
                offset += length;
            }
            else {
                const shared = this.dh(token);
                if (!shared)
                    return err({ code: 'invalid_key', message: `DH ${token} failed: invalid peer key` });
                this.symmetric.mixKey(shared);
            }
        }
        const rest = message.subarray(offset);
        if (this.symmetric.hasKey() && rest.byteLength < TAG_BYTES)
            return err({ code: 'truncated', message: 'message too short for its tag' });
        const payload = this.symmetric.decryptAndHash(rest);
        if (!payload)
            return err({ code: 'decrypt_failed', message: 'payload failed authentication' });
        this.advance();
        return ok(payload);
    }
    advance() {
        this.messageIndex++;
        if (this.messageIndex < this.pattern.messages.length)
            return;
        const { ciphers: [c1, c2], keys: [k1, k2], } = this.symmetric.split();
        const handshakeHash = this.symmetric.handshakeHash;
        this.transport = this.options.initiator
            ? { send: c1, receive: c2, handshakeHash, sendKey: k1, receiveKey: k2 }
            : { send: c2, receive: c1, handshakeHash, sendKey: k2, receiveKey: k1 };
    }
}
//# sourceMappingURL=handshake-state.js.map