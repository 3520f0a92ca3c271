// Messages for devices that are offline: sealed to the device's key, one way (the first message
// of Noise IK, which is Noise X: the recipient's static key is known, the sender's is sent and
// proven), and kept by the login server until the device fetches them. The login server sees
// only who sent how many bytes to which device. Forward secrecy is weaker than in a live
// session: a recipient key stolen later opens what waits for it.
import { create, toBinary } from '@bufbuild/protobuf';
import { err, ok, type Result } from '../result.js';
import { equalBytes } from '../crypto/bytes.js';
import { Role } from '../crypto/certificate.js';
import type { HandshakeState } from '../crypto/noise/handshake-state.js';
import { OfflineEnvelopeSchema, decodeProto } from '../wire/messages.js';
import { deviceHandshake, type E2eConfig, type E2eError } from './e2e-session.js';

const PROLOGUE = new TextEncoder().encode('parley-offline-v1');
export const MAX_OFFLINE_BYTES = 16 * 1024;

function handshake(config: E2eConfig, initiator: boolean, recipientKey?: Uint8Array): HandshakeState {
  return deviceHandshake(config, PROLOGUE, initiator, recipientKey);
}

/** Seals `payload` (an encoded ChatPayload) for the device whose Noise key is `recipientKey`. */
export function sealOffline(config: E2eConfig, recipientKey: Uint8Array, payload: Uint8Array): Uint8Array {
  const envelope = toBinary(OfflineEnvelopeSchema, create(OfflineEnvelopeSchema, { certificate: config.identity.certificate, payload }));
  const message = handshake(config, true, recipientKey).writeMessage(envelope);
  if (!message.ok) throw new Error(`sealing for an offline device: ${message.error.message}`);
  return message.value;
}

/**
 * Opens a message sealed for this device. `sender` is the user the login server says sent it
 * and `storedAtMs` when it took it; the sender's certificate must agree, have been valid then,
 * and be for the key the message proved.
 */
export function openOffline(config: E2eConfig, sealed: Uint8Array, sender: string, storedAtMs: number): Result<{ payload: Uint8Array; senderKey: Uint8Array }, E2eError> {
  if (sealed.byteLength > MAX_OFFLINE_BYTES) return err({ code: 'malformed', message: 'offline message too large' });
  const state = handshake(config, false);
  const read = state.readMessage(sealed);
  if (!read.ok) return err({ code: 'handshake_failed', message: read.error.message });
  const envelope = decodeProto(OfflineEnvelopeSchema, read.value, MAX_OFFLINE_BYTES);
  if (!envelope.ok) return err({ code: 'malformed', message: envelope.error.message });
  // Checked at the time the login server took the message: the certificate may have expired since.
  const certificate = config.verifier.verify(envelope.value.certificate, storedAtMs);
  if (!certificate.ok) return err({ code: 'bad_certificate', message: `${certificate.error.code}: ${certificate.error.message}` });
  const cert = certificate.value;
  if (cert.role !== Role.DEVICE) return err({ code: 'bad_certificate', message: 'not a device certificate' });
  if (!state.remoteStaticKey || !equalBytes(cert.dhKey, state.remoteStaticKey)) return err({ code: 'wrong_peer', message: 'the certificate is for another key than the message proved' });
  if (cert.username !== sender) return err({ code: 'wrong_peer', message: `a certificate for ${cert.username} in a message from ${sender}` });
  return ok({ payload: envelope.value.payload, senderKey: cert.dhKey });
}
