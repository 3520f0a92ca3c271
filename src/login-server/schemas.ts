// JSON schemas for request bodies and queries. Every object forbids unknown properties, and
// types are never coerced: a wrong shape is a 400, before any handler runs.
const b64key = { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: '32 bytes, base64url' } as const;
const b64sig = { type: 'string', pattern: '^[A-Za-z0-9_-]{86}$', description: '64 bytes, base64url' } as const;

export const usernameField = { type: 'string', minLength: 1, maxLength: 128 } as const;
export const passwordField = { type: 'string', minLength: 8, maxLength: 1024 } as const;

// OpenAPI 3.0 wants `required` to name at least one property: an object with none required leaves it out.
export function object(properties: Record<string, unknown>, required: string[] = Object.keys(properties)) {
  return { type: 'object', additionalProperties: false, properties, ...(required.length > 0 ? { required } : {}) } as const;
}

/** Formats for text that users choose and other users are shown (checked by user-text.ts; server.ts registers them). */
export const USER_TEXT_FORMATS = { name: 'parley-name', message: 'parley-message' } as const;
export const NAME_MAX_CHARS = 64;
export const MESSAGE_MAX_CHARS = 500;
const nameText = {
  type: 'string',
  minLength: 1,
  maxLength: NAME_MAX_CHARS,
  format: USER_TEXT_FORMATS.name,
  description: `at most ${NAME_MAX_CHARS} code points, one line; no control, bidi or other invisible format characters, no spaces at either end`,
} as const;
const messageText = {
  type: 'string',
  maxLength: MESSAGE_MAX_CHARS,
  format: USER_TEXT_FORMATS.message,
  description: `at most ${MESSAGE_MAX_CHARS} code points; line feeds allowed; no other control, bidi or invisible format characters`,
} as const;

const hostField = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$', description: 'an IPv4 address or a host name' } as const;
const portField = { type: 'integer', minimum: 1, maximum: 65535 } as const;

export const deviceField = object({ signingKey: b64key, dhKey: b64key, name: nameText, proof: b64sig });

export const schemas = {
  register: object(
    { username: usernameField, password: passwordField, displayName: nameText, discoverable: { type: 'boolean' }, showLastSeen: { type: 'boolean' } },
    ['username', 'password'],
  ),
  passwordLogin: object({ username: usernameField, password: passwordField, device: deviceField }),
  challengeRequest: object({ signingKey: b64key }),
  supernodeCertificate: object({ attestation: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,2731}$', description: 'an encoded ReachabilityAttestation (at most 2 KiB), base64url' } }),
  supernodeEnrol: object(
    { token: { type: 'string', pattern: '^parley-sn1-[A-Za-z0-9_-]{43}$' }, signingKey: b64key, dhKey: b64key, host: hostField, port: portField, webPort: portField, proof: b64sig },
    ['token', 'signingKey', 'dhKey', 'host', 'port', 'proof'],
  ),
  supernodeRenew: object(
    { signingKey: b64key, host: hostField, port: portField, webPort: portField, timeMs: { type: 'integer', minimum: 0 }, signature: b64sig },
    ['signingKey', 'host', 'port', 'timeMs', 'signature'],
  ),
  deviceLogin: object({ signingKey: b64key, challenge: b64key, signature: b64sig }),
  changePassword: object({ oldPassword: passwordField, newPassword: passwordField }),
  deleteAccount: object({ password: passwordField }),
  privacy: object({ discoverable: { type: 'boolean' }, showLastSeen: { type: 'boolean' } }, []),
  putContacts: object({
    expectedVersion: { type: 'integer', minimum: 0 },
    entries: { type: 'array', maxItems: 5000, items: object({ username: usernameField, kind: { type: 'string', enum: ['buddy', 'blocked'] } }) },
  }),
  buddyRequest: object({ to: usernameField, message: messageText }, ['to']),
  offlineMessage: object({ ciphertext: { type: 'string', pattern: '^[A-Za-z0-9_-]*$', minLength: 1, maxLength: 87_382, description: 'at most 64 KiB, base64url' } }),
  offlineAck: object({ ids: { type: 'array', maxItems: 1000, items: { type: 'integer', minimum: 1 } } }),
  sinceQuery: object({ since: { type: 'integer', minimum: 0 } }, []),
  searchQuery: object({ q: { type: 'string', minLength: 1, maxLength: 33 }, limit: { type: 'integer', minimum: 1, maximum: 100 }, after: usernameField }, ['q']),
  versionQuery: object({ current: { type: 'string', maxLength: 32 } }, []),
  limitQuery: object({ limit: { type: 'integer', minimum: 1, maximum: 500 } }, []),
  idParam: object({ id: { type: 'integer', minimum: 1 } }),
  usernameParam: object({ username: usernameField }),
};
