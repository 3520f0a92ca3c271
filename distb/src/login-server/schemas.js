// JSON schemas for request bodies and queries. Every object forbids unknown properties, and
// types are never coerced: a wrong shape is a 400, before any handler runs.
const b64key = { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: '32 bytes, base64url' };
const b64sig = { type: 'string', pattern: '^[A-Za-z0-9_-]{86}$', description: '64 bytes, base64url' };
export const usernameField = { type: 'string', minLength: 1, maxLength: 128 };
export const passwordField = { type: 'string', minLength: 8, maxLength: 1024 };
export function object(properties, required = Object.keys(properties)) {
    return { type: 'object', additionalProperties: false, properties, required };
}
const hostField = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$', description: 'an IPv4 address or a host name' };
const portField = { type: 'integer', minimum: 1, maximum: 65535 };
export const deviceField = object({ signingKey: b64key, dhKey: b64key, name: { type: 'string', minLength: 1, maxLength: 64 }, proof: b64sig });
export const schemas = {
    register: object({ username: usernameField, password: passwordField, displayName: { type: 'string', minLength: 1, maxLength: 64 }, discoverable: { type: 'boolean' }, showLastSeen: { type: 'boolean' } }, ['username', 'password']),
    passwordLogin: object({ username: usernameField, password: passwordField, device: deviceField }),
    challengeRequest: object({ signingKey: b64key }),
    supernodeCertificate: object({ attestation: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,2731}$', description: 'an encoded ReachabilityAttestation (at most 2 KiB), base64url' } }),
    supernodeEnrol: object({ token: { type: 'string', pattern: '^parley-sn1-[A-Za-z0-9_-]{43}$' }, signingKey: b64key, dhKey: b64key, host: hostField, port: portField, webPort: portField, proof: b64sig }, ['token', 'signingKey', 'dhKey', 'host', 'port', 'proof']),
    supernodeRenew: object({ signingKey: b64key, host: hostField, port: portField, webPort: portField, timeMs: { type: 'integer', minimum: 0 }, signature: b64sig }, ['signingKey', 'host', 'port', 'timeMs', 'signature']),
    deviceLogin: object({ signingKey: b64key, challenge: b64key, signature: b64sig }),
    changePassword: object({ oldPassword: passwordField, newPassword: passwordField }),
    deleteAccount: object({ password: passwordField }),
    privacy: object({ discoverable: { type: 'boolean' }, showLastSeen: { type: 'boolean' } }, []),
    putContacts: object({
        expectedVersion: { type: 'integer', minimum: 0 },
        entries: { type: 'array', maxItems: 5000, items: object({ username: usernameField, kind: { type: 'string', enum: ['buddy', 'blocked'] } }) },
    }),
    buddyRequest: object({ to: usernameField, message: { type: 'string', maxLength: 500 } }, ['to']),
    offlineMessage: object({ ciphertext: { type: 'string', pattern: '^[A-Za-z0-9_-]*$', minLength: 1, maxLength: 87_382, description: 'at most 64 KiB, base64url' } }),
    offlineAck: object({ ids: { type: 'array', maxItems: 1000, items: { type: 'integer', minimum: 1 } } }),
    sinceQuery: object({ since: { type: 'integer', minimum: 0 } }, []),
    searchQuery: object({ q: { type: 'string', minLength: 1, maxLength: 33 }, limit: { type: 'integer', minimum: 1, maximum: 100 }, after: usernameField }, ['q']),
    versionQuery: object({ current: { type: 'string', maxLength: 32 } }, []),
    limitQuery: object({ limit: { type: 'integer', minimum: 1, maximum: 500 } }, []),
    idParam: object({ id: { type: 'integer', minimum: 1 } }),
    usernameParam: object({ username: usernameField }),
};
//# sourceMappingURL=schemas.js.map