// The one boundary where untrusted bytes become typed messages. Every decoder here returns a
// Result: a value that passed its size limit, parsed as protobuf and passed its semantic
// checks, or a typed error. Nothing thrown by the protobuf runtime escapes.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { err, ok, type CodedError, type Result } from '../result.js';
import {
  CertificateBodySchema,
  CertificateSchema,
  EnvelopeSchema,
  HandshakePayloadSchema,
  type CertificateBody,
  type Certificate,
  type Envelope,
  type HandshakePayload,
} from './gen/parley/v1/wire_pb.js';

export * from './gen/parley/v1/wire_pb.js';
export * from './gen/parley/v1/groups_pb.js';

/** The protocol versions this build speaks, newest last. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];

/** Largest message inside an encrypted frame (a Noise message minus the 16-byte tag). */
export const MAX_ENVELOPE_BYTES = 65535 - 16;
/** A UDP datagram stays under common path MTUs (as STUN and QUIC do). */
export const MAX_DATAGRAM_BYTES = 1200;
export const MAX_HANDSHAKE_PAYLOAD_BYTES = 2048;
export const MAX_CERTIFICATE_BYTES = 1024;

/**
 * First byte of a Parley datagram: 0xF0 | version. RFC 7983 leaves 192-255 unassigned, so
 * one UDP port can carry STUN (0-3), TURN channels (64-79), RTP/RTCP (128-191) and Parley.
 */
export const DATAGRAM_MARKER = 0xf0;

export type DecodeErrorCode = 'oversized' | 'malformed' | 'empty' | 'unknown_message' | 'unsupported_version' | 'invalid_field';
export type DecodeError = CodedError<DecodeErrorCode>;

function decodeError(code: DecodeErrorCode, message: string): Result<never, DecodeError> {
  return err({ code, message });
}

/** Parses protobuf bytes of `schema` within `maxBytes`; unknown fields are dropped. */
export function decodeProto<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array, maxBytes: number): Result<MessageShape<Desc>, DecodeError> {
  if (bytes.byteLength > maxBytes) return decodeError('oversized', `${schema.typeName} of ${bytes.byteLength} bytes exceeds ${maxBytes}`);
  try {
    return ok(fromBinary(schema, bytes, { readUnknownFields: false }));
  } catch (error) {
    return decodeError('malformed', `${schema.typeName}: ${(error as Error).message}`);
  }
}

export function encodeEnvelope(body: Envelope['body']): Uint8Array {
  return toBinary(EnvelopeSchema, create(EnvelopeSchema, { body }));
}

export function decodeEnvelope(bytes: Uint8Array): Result<Envelope, DecodeError> {
  const decoded = decodeProto(EnvelopeSchema, bytes, MAX_ENVELOPE_BYTES);
  if (!decoded.ok) return decoded;
  // An unset body is either empty or a message type from a newer version that we don't know.
  if (decoded.value.body.case === undefined) {
    return decodeError(bytes.byteLength === 0 ? 'empty' : 'unknown_message', 'envelope carries no message this version knows');
  }
  return decoded;
}

export function encodeDatagram(body: Envelope['body'], version: number = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!): Uint8Array {
  const envelope = encodeEnvelope(body);
  const out = new Uint8Array(1 + envelope.byteLength);
  out[0] = DATAGRAM_MARKER | version;
  out.set(envelope, 1);
  if (out.byteLength > MAX_DATAGRAM_BYTES) throw new RangeError(`datagram of ${out.byteLength} bytes exceeds ${MAX_DATAGRAM_BYTES}`);
  return out;
}

/** True when the first byte says "Parley datagram" (of any version), for port demultiplexing. */
export function isParleyDatagram(bytes: Uint8Array): boolean {
  return bytes.byteLength > 0 && (bytes[0]! & 0xf0) === DATAGRAM_MARKER;
}

export function decodeDatagram(bytes: Uint8Array): Result<{ version: number; envelope: Envelope }, DecodeError> {
  if (bytes.byteLength > MAX_DATAGRAM_BYTES) return decodeError('oversized', `datagram of ${bytes.byteLength} bytes exceeds ${MAX_DATAGRAM_BYTES}`);
  if (!isParleyDatagram(bytes)) return decodeError('malformed', 'not a Parley datagram');
  const version = bytes[0]! & 0x0f;
  if (!SUPPORTED_VERSIONS.includes(version)) return decodeError('unsupported_version', `datagram version ${version} is not supported`);
  const envelope = decodeEnvelope(bytes.subarray(1));
  return envelope.ok ? ok({ version, envelope: envelope.value }) : envelope;
}

export function encodeHandshakePayload(payload: MessageInitShape<typeof HandshakePayloadSchema>): Uint8Array {
  return toBinary(HandshakePayloadSchema, create(HandshakePayloadSchema, payload));
}

export function decodeHandshakePayload(bytes: Uint8Array): Result<HandshakePayload, DecodeError> {
  return decodeProto(HandshakePayloadSchema, bytes, MAX_HANDSHAKE_PAYLOAD_BYTES);
}

export function encodeCertificate(certificate: { body: Uint8Array; signature: Uint8Array }): Uint8Array {
  return toBinary(CertificateSchema, create(CertificateSchema, certificate));
}

export function encodeCertificateBody(body: MessageInitShape<typeof CertificateBodySchema>): Uint8Array {
  return toBinary(CertificateBodySchema, create(CertificateBodySchema, body));
}

export function decodeCertificate(bytes: Uint8Array): Result<Certificate, DecodeError> {
  return decodeProto(CertificateSchema, bytes, MAX_CERTIFICATE_BYTES);
}

export function decodeCertificateBody(bytes: Uint8Array): Result<CertificateBody, DecodeError> {
  const decoded = decodeProto(CertificateBodySchema, bytes, MAX_CERTIFICATE_BYTES);
  if (!decoded.ok) return decoded;
  const body = decoded.value;
  if (body.signingKey.byteLength !== 32) return decodeError('invalid_field', 'signing key must be 32 bytes');
  if (body.dhKey.byteLength !== 32) return decodeError('invalid_field', 'DH key must be 32 bytes');
  if (body.networkId.byteLength !== 32) return decodeError('invalid_field', 'network id must be 32 bytes');
  if (body.username.length > 64) return decodeError('invalid_field', 'username too long');
  return ok(body);
}
