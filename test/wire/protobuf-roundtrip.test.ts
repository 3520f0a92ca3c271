// decode(encode(x)) is x for every message of proto/parley/v1/wire.proto: random messages are
// built from the schema itself (so a message added to the .proto is covered without a change
// here), through the protobuf runtime and through the helpers of src/wire/messages.ts that the
// code uses (envelopes, datagrams, handshake payloads, certificates).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { create, equals, toBinary, ScalarType, type DescField, type DescMessage, type DescOneof, type MessageShape } from '@bufbuild/protobuf';
import {
  CertificateBodySchema,
  CertificateSchema,
  EnvelopeSchema,
  HandshakePayloadSchema,
  MAX_CERTIFICATE_BYTES,
  MAX_DATAGRAM_BYTES,
  MAX_HANDSHAKE_PAYLOAD_BYTES,
  decodeCertificate,
  decodeCertificateBody,
  decodeDatagram,
  decodeEnvelope,
  decodeHandshakePayload,
  decodeProto,
  encodeCertificate,
  encodeCertificateBody,
  encodeDatagram,
  encodeEnvelope,
  encodeHandshakePayload,
  file_parley_v1_wire,
  type Envelope,
} from '../../src/wire/messages.js';

/** How deep messages nest in a generated value (deeper message fields stay unset). */
const MAX_DEPTH = 3;

function scalarArbitrary(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      // Protobuf strings are UTF-8: any sequence of code points, no lone surrogates.
      return fc.string({ unit: 'binary', maxLength: 24 });
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 48 });
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.nat({ max: 0xffffffff });
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case ScalarType.DOUBLE:
      return fc.double({ noNaN: true });
    case ScalarType.FLOAT:
      return fc.float({ noNaN: true });
  }
}

function fieldArbitrary(field: DescField, depth: number): fc.Arbitrary<unknown> | null {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarArbitrary(field.scalar);
    case 'enum':
      return fc.constantFrom(...field.enum.values.map((v) => v.number));
    case 'message':
      return depth >= MAX_DEPTH ? null : messageArbitrary(field.message, depth + 1);
    case 'list': {
      const item =
        field.listKind === 'scalar'
          ? scalarArbitrary(field.scalar)
          : field.listKind === 'enum'
            ? fc.constantFrom(...field.enum.values.map((v) => v.number))
            : depth >= MAX_DEPTH
              ? null
              : messageArbitrary(field.message, depth + 1);
      return item ? fc.array(item, { maxLength: 3 }) : null;
    }
    case 'map': {
      const value =
        field.mapKind === 'scalar'
          ? scalarArbitrary(field.scalar)
          : field.mapKind === 'enum'
            ? fc.constantFrom(...field.enum.values.map((v) => v.number))
            : depth >= MAX_DEPTH
              ? null
              : messageArbitrary(field.message, depth + 1);
      const key = scalarArbitrary(field.mapKey);
      return value ? fc.array(fc.tuple(key, value), { maxLength: 3 }).map((pairs) => Object.fromEntries(pairs.map(([k, v]) => [String(k), v]))) : null;
    }
  }
}

function oneofArbitrary(oneof: DescOneof, depth: number): fc.Arbitrary<{ case: string | undefined; value?: unknown }> {
  const cases = oneof.fields.flatMap((field) => {
    const value = fieldArbitrary(field, depth);
    return value ? [value.map((v) => ({ case: field.localName, value: v }))] : [];
  });
  return fc.oneof(fc.constant({ case: undefined }), ...cases);
}

/** Random messages of `schema`, every field set or left at its default. */
function messageArbitrary<Desc extends DescMessage>(schema: Desc, depth = 0): fc.Arbitrary<MessageShape<Desc>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const member of schema.members) {
    if (member.kind === 'oneof') parts[member.localName] = oneofArbitrary(member, depth);
    else {
      const value = fieldArbitrary(member, depth);
      if (value) parts[member.localName] = value;
    }
  }
  return fc.record(parts, { requiredKeys: [] }).map((init) => create(schema, init as never));
}

function allMessages(): DescMessage[] {
  const out: DescMessage[] = [];
  const visit = (message: DescMessage) => {
    out.push(message);
    message.nestedMessages.forEach(visit);
  };
  file_parley_v1_wire.messages.forEach(visit);
  return out;
}

test('every message of wire.proto decodes to what was encoded, and encodes again to the same bytes', () => {
  const messages = allMessages();
  assert.ok(messages.length >= 50, `found ${messages.length} messages in wire.proto`);
  for (const schema of messages) {
    fc.assert(
      fc.property(messageArbitrary(schema), (message) => {
        const bytes = toBinary(schema, message);
        const decoded = decodeProto(schema, bytes, Number.MAX_SAFE_INTEGER);
        assert.ok(decoded.ok, `${schema.typeName}: ${decoded.ok ? '' : decoded.error.message}`);
        assert.ok(equals(schema, decoded.value, message), `${schema.typeName} changed in a round trip`);
        assert.deepEqual(toBinary(schema, decoded.value), bytes);
      }),
      { numRuns: 40 },
    );
  }
});

const bodies = messageArbitrary(EnvelopeSchema).filter((envelope) => envelope.body.case !== undefined);

test('every envelope body round-trips through encodeEnvelope/decodeEnvelope, and through a datagram when it fits one', () => {
  const bodyCases = EnvelopeSchema.oneofs[0]!.fields.map((f) => f.localName);
  const seen = new Set<string>();
  fc.assert(
    fc.property(bodies, (envelope) => {
      const body = envelope.body as Envelope['body'];
      seen.add(body.case!);
      const decoded = decodeEnvelope(encodeEnvelope(body));
      assert.ok(decoded.ok);
      assert.ok(equals(EnvelopeSchema, decoded.value, envelope));
      if (encodeEnvelope(body).byteLength + 1 > MAX_DATAGRAM_BYTES) return;
      const datagram = decodeDatagram(encodeDatagram(body));
      assert.ok(datagram.ok);
      assert.equal(datagram.value.version, 1);
      assert.ok(equals(EnvelopeSchema, datagram.value.envelope, envelope));
    }),
    { numRuns: 1500 },
  );
  assert.deepEqual(bodyCases.filter((c) => !seen.has(c)), [], 'every body kind was tried');
});

test('handshake payloads and certificates round-trip through their helpers (within their size limits)', () => {
  fc.assert(
    fc.property(messageArbitrary(HandshakePayloadSchema), (payload) => {
      const bytes = encodeHandshakePayload(payload);
      fc.pre(bytes.byteLength <= MAX_HANDSHAKE_PAYLOAD_BYTES);
      const decoded = decodeHandshakePayload(bytes);
      assert.ok(decoded.ok && equals(HandshakePayloadSchema, decoded.value, payload));
    }),
  );
  fc.assert(
    fc.property(messageArbitrary(CertificateSchema), (certificate) => {
      const decoded = decodeCertificate(encodeCertificate(certificate));
      assert.ok(decoded.ok && equals(CertificateSchema, decoded.value, certificate));
    }),
  );
  // A certificate body passes the semantic checks when its keys and network id are 32 bytes and the name at most 64 characters.
  const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const validBody = fc
    .tuple(messageArbitrary(CertificateBodySchema), key, key, key, fc.string({ unit: 'binary', maxLength: 64 }).filter((name) => name.length <= 64))
    .map(([body, signingKey, dhKey, networkId, username]) => create(CertificateBodySchema, { ...body, signingKey, dhKey, networkId, username }));
  fc.assert(
    fc.property(validBody, (body) => {
      const bytes = encodeCertificateBody(body);
      assert.ok(bytes.byteLength <= MAX_CERTIFICATE_BYTES);
      const decoded = decodeCertificateBody(bytes);
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
      assert.ok(equals(CertificateBodySchema, decoded.value, body));
    }),
  );
});
