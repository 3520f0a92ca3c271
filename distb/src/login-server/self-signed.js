// A self-signed TLS certificate for a login server that was given none: ECDSA P-256 with
// SHA-256 (accepted by every TLS stack), subject alternative names for its host names and IP
// addresses. Clients pin it through the network descriptor. X.509 (RFC 5280) in a few DER
// helpers: node:crypto makes the key, exports its SubjectPublicKeyInfo and signs.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
function length(n) {
    if (n < 0x80)
        return [n];
    const bytes = [];
    for (let v = n; v > 0; v = Math.floor(v / 256))
        bytes.unshift(v & 0xff);
    return [0x80 | bytes.length, ...bytes];
}
function tlv(tag, ...contents) {
    const body = contents.flatMap((c) => [...c]);
    return [tag, ...length(body.length), ...body];
}
const seq = (...c) => tlv(0x30, ...c);
function oid(dotted) {
    const [a, b, ...rest] = dotted.split('.').map(Number);
    const bytes = [40 * a + b];
    for (const arc of rest) {
        const chunk = [arc & 0x7f];
        for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
            chunk.unshift(0x80 | (v & 0x7f));
        bytes.push(...chunk);
    }
    return tlv(0x06, bytes);
}
function utf8(text) {
    return tlv(0x0c, [...Buffer.from(text, 'utf8')]);
}
/** GeneralizedTime, valid for any year (RFC 5280 allows it; UTCTime stops at 2049). */
function time(date) {
    const text = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    return tlv(0x18, [...Buffer.from(text, 'ascii')]);
}
function ipBytes(address) {
    return address.split('.').map(Number);
}
export function createSelfSignedCertificate(options) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
    const name = seq(tlv(0x31, seq(oid('2.5.4.3'), utf8(options.commonName))));
    // A positive INTEGER in its shortest form: first byte 0x40-0x7F (a 0x00 first byte before one
    // below 0x80 is illegal padding in DER, which failed about one start in 256).
    const serial = [...randomBytes(16)];
    serial[0] = 0x40 | (serial[0] & 0x3f);
    const altNames = options.hosts.map((host) => isIP(host) === 4 ? tlv(0x87, ipBytes(host)) : tlv(0x82, [...Buffer.from(host, 'ascii')]));
    const extensions = tlv(0xa3, seq(seq(oid('2.5.29.17'), tlv(0x04, seq(...altNames))), // subjectAltName
    seq(oid('2.5.29.19'), tlv(0x01, [0xff]), tlv(0x04, seq())), // basicConstraints: critical, not a CA
    seq(oid('2.5.29.37'), tlv(0x04, seq(oid('1.3.6.1.5.5.7.3.1'))))));
    const notAfter = new Date(options.now.getTime() + options.lifetimeDays * 86_400_000);
    const tbs = seq(tlv(0xa0, tlv(0x02, [2])), // version 3
    tlv(0x02, serial), ecdsaWithSha256, name, seq(time(new Date(options.now.getTime() - 3_600_000)), time(notAfter)), name, [...publicKey.export({ type: 'spki', format: 'der' })], extensions);
    const signature = sign('sha256', Uint8Array.from(tbs), privateKey);
    const der = Buffer.from(seq(tbs, ecdsaWithSha256, tlv(0x03, [0, ...signature])));
    const certPem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
    return {
        certPem,
        keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        sha256: createHash('sha256').update(der).digest('hex'),
    };
}
//# sourceMappingURL=self-signed.js.map