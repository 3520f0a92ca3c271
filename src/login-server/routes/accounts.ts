// Accounts and logins: register, first login on a device (password + device key → certificate),
// re-login by signing a single-use challenge (no password on the wire), password change,
// account deletion, devices.
import type {} from '@fastify/swagger'; // schema.tags
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromBase64Url, toBase64Url } from '../../crypto/bytes.js';
import { issueCertificate, Role } from '../../crypto/certificate.js';
import { verifySignature } from '../../crypto/ed25519.js';
import { challengeMessage, deviceProofMessage } from '../../crypto/login-proofs.js';
import { normaliseNewUsername, normaliseUsername } from '../../wire/usernames.js';
import { checkUserText } from '../../wire/user-text.js';
import { spendAttempt } from '../attempt-limit.js';
import { ApiError, authenticate, throttled, type ServerContext } from '../context.js';
import type { Device, User } from '../store/login-store.js';
import { issueToken } from '../tokens.js';
import { schemas } from '../schemas.js';
import { supernodeCertificateFor } from '../promotion.js';
import { LoginThrottle, sourceOf } from '../login-throttle.js';

function bytes(text: string): Uint8Array {
  const value = fromBase64Url(text);
  if (!value) throw new ApiError(400, 'invalid_request', 'not canonical base64url');
  return value;
}

function username(text: string): string {
  const name = normaliseUsername(text);
  if (!name.ok) throw new ApiError(400, name.error.code, name.error.message);
  return name.value;
}

/** The certificate and token of a login; `recorded` is the login as the store recorded it (its time, the certificate's serial). */
async function grant(context: ServerContext, user: User, device: Device, source: string, recorded?: { nowMs: number; serial: number }) {
  const now = recorded?.nowMs ?? context.clock.wallTimeMs();
  context.hasher.trust(source); // its password logins may take the hash queue's reserved places
  const certificate = issueCertificate(context.ca, {
    username: user.username,
    role: Role.DEVICE,
    signingKey: device.signingKey,
    dhKey: device.dhKey,
    serial: recorded?.serial ?? (await context.store.recordGrant(device.id, user.id, now)), // the login is recorded with its serial
    issuedAtMs: now,
    lifetimeMs: context.config.certificateLifetimeMs,
  });
  context.metrics.certificatesIssued.inc({ role: 'device' });
  const accessTokenExpiresAtMs = now + context.config.tokenLifetimeMs;
  return {
    username: user.username,
    deviceId: device.id,
    certificate: toBase64Url(certificate),
    certificateExpiresAtMs: now + context.config.certificateLifetimeMs,
    accessToken: issueToken(context.ca.keyPair, { userId: user.id, deviceId: device.id, expiresAtMs: accessTokenExpiresAtMs }),
    accessTokenExpiresAtMs,
  };
}

function clientIp(request: FastifyRequest): string {
  return request.ip;
}

export function accountRoutes(app: FastifyInstance, context: ServerContext): void {
  const { store, hasher, config } = context;
  const now = () => context.clock.wallTimeMs();
  const throttle = new LoginThrottle(context);

  app.post('/v1/accounts', { schema: { body: schemas.register, tags: ['accounts'] } }, async (request, reply) => {
    const body = request.body as { username: string; password: string; displayName?: string; discoverable?: boolean; showLastSeen?: boolean };
    const name = normaliseNewUsername(body.username);
    if (!name.ok) throw new ApiError(400, name.error.code, name.error.message);
    // The display name defaults to the username as typed (its case, its width); either is text others are shown.
    const displayName = checkUserText(body.displayName ?? body.username, 'name');
    if (!displayName.ok) throw new ApiError(400, displayName.error.code, displayName.error.message);
    await spendAttempt(context, `register-ip:${clientIp(request)}`, config.registrationThrottle); // every registration counts
    const created = await store.createUser({
      username: name.value,
      displayName: displayName.value,
      passwordHash: await hasher.hash(body.password),
      nowMs: now(),
      discoverable: body.discoverable ?? false,
      showLastSeen: body.showLastSeen ?? false,
    });
    if (!created.ok) throw new ApiError(409, created.error.code, created.error.message);
    reply.code(201);
    return { username: created.value.username, displayName: created.value.displayName };
  });

  // Cheapest checks first: the request's shape, the device's proof (one signature check), room in
  // the hash queue; then the attempt is reserved against the throttles; only then the hash.
  app.post('/v1/login/password', { schema: { body: schemas.passwordLogin, tags: ['login'] } }, async (request) => {
    const body = request.body as { username: string; password: string; device: { signingKey: string; dhKey: string; name: string; proof: string } };
    const name = username(body.username);
    const source = sourceOf(clientIp(request));
    const signingKey = bytes(body.device.signingKey);
    const dhKey = bytes(body.device.dhKey);
    if (!verifySignature(signingKey, deviceProofMessage(context.ca.networkId, name, dhKey), bytes(body.device.proof))) {
      throw new ApiError(400, 'bad_device_proof', 'the device did not prove it holds its signing key');
    }
    hasher.ensureRoom(source);
    const attempt = await throttle.reservePassword(name, source);
    let user: User | null;
    let valid: boolean;
    try {
      user = await store.findUser(name);
      // Unknown user and wrong password look the same and cost the same: a hash of today's cost is checked either way.
      valid = await hasher.verify(body.password, user?.passwordHash ?? hasher.unknownUserHash, source);
    } catch (error) {
      await attempt.settle('not_evaluated');
      throw error;
    }
    if (!user || !valid) {
      await attempt.settle('wrong');
      throw new ApiError(401, 'bad_credentials', 'wrong username or password');
    }
    await attempt.settle('right');
    if (hasher.needsRehash(user.passwordHash)) await store.setPasswordHash(user.id, await hasher.hash(body.password, source));
    const device = await store.registerDevice({ userId: user.id, signingKey, dhKey, name: body.device.name, nowMs: now() });
    if (!device.ok) throw new ApiError(409, device.error.code, device.error.message);
    return grant(context, user, device.value, source);
  });

  // Anyone who knows a device's public key can ask for its challenges (buddies can list each
  // other's devices), so asking is rate-limited per source and a device holds several
  // outstanding challenges: a stranger's requests evict the stranger's own first. The lock of
  // the source's failed device logins, the source's window of challenges, the device and its
  // challenges are one step of the store (one statement on PostgreSQL): this is the busiest route.
  app.post('/v1/login/challenge', { schema: { body: schemas.challengeRequest, tags: ['login'] } }, async (request) => {
    const signingKey = bytes((request.body as { signingKey: string }).signingKey);
    const source = sourceOf(clientIp(request));
    const challenge = toBase64Url(context.random.bytes(32));
    const nowMs = now();
    const expiresAtMs = nowMs + config.challengeLifetimeMs;
    const { maxPerWindow, windowMs } = config.challengeRate;
    const outcome = await store.issueChallenge({
      lockKey: `login-ip:${source}`,
      windowKey: `challenge-ip:${source}`,
      windowMs,
      maxPerWindow,
      signingKey,
      challenge,
      source,
      maxPerDevice: config.maxChallengesPerDevice,
      nowMs,
      expiresAtMs,
    });
    switch (outcome.kind) {
      case 'locked':
        throw throttled(context, 'login-ip', outcome.lockedUntilMs, 'too many attempts: wait and try again');
      case 'rate_limited':
        throw throttled(context, 'challenge-ip', outcome.lockedUntilMs, 'too many challenges from this address: wait and try again');
      case 'unknown_device':
        throw new ApiError(404, 'unknown_device', 'no active device has this key: log in with the password');
      case 'issued':
        return { challenge, expiresAtMs };
    }
  });

  // The signature is checked first, on the raw key the device sent (libsodium needs no key
  // object, so nothing is imported or cached per key); then one step of the store checks the
  // source's lock, uses the challenge up (single use, even when the answer is wrong), and if the
  // challenge was that key's active device's and the signature holds, records the login and
  // draws the certificate's serial. A failure counts against the source's lock.
  app.post('/v1/login/device', { schema: { body: schemas.deviceLogin, tags: ['login'] } }, async (request) => {
    const body = request.body as { signingKey: string; challenge: string; signature: string };
    const source = sourceOf(clientIp(request));
    const ipKey = `login-ip:${source}`;
    const signingKey = bytes(body.signingKey);
    const challenge = bytes(body.challenge);
    const signature = bytes(body.signature);
    const signatureValid = verifySignature(signingKey, challengeMessage(context.ca.networkId, challenge), signature);
    const nowMs = now();
    const used = await store.useChallenge({ lockKey: ipKey, challenge: body.challenge, signingKey, signatureValid, nowMs });
    const fail = async (code: string, message: string) => {
      await store.recordFailure(ipKey, now(), config.loginSourceThrottle);
      return new ApiError(401, code, message);
    };
    switch (used.kind) {
      case 'locked':
        throw throttled(context, 'login-ip', used.lockedUntilMs, 'too many attempts: wait and try again');
      case 'unknown':
        throw await fail('bad_challenge', 'unknown, expired or already used challenge');
      case 'revoked':
        throw await fail('device_revoked', 'this device was revoked');
      case 'wrong_key':
        throw await fail('bad_signature', 'the signature does not match the device key');
      case 'granted':
        return grant(context, used.user, used.device, source, { nowMs, serial: used.serial });
    }
  });

  app.post('/v1/account/password', { schema: { body: schemas.changePassword, tags: ['accounts'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const body = request.body as { oldPassword: string; newPassword: string };
    if (!(await hasher.verify(body.oldPassword, caller.user.passwordHash))) throw new ApiError(401, 'bad_credentials', 'the old password is wrong');
    await store.setPasswordHash(caller.user.id, await hasher.hash(body.newPassword));
    return { changed: true };
  });

  app.patch('/v1/account/privacy', { schema: { body: schemas.privacy, tags: ['accounts'] } }, async (request) => {
    const caller = await authenticate(context, request);
    await store.setPrivacy(caller.user.id, request.body as { discoverable?: boolean; showLastSeen?: boolean });
    const user = (await store.findUserById(caller.user.id))!;
    return { discoverable: user.discoverable, showLastSeen: user.showLastSeen };
  });

  app.delete('/v1/account', { schema: { body: schemas.deleteAccount, tags: ['accounts'] } }, async (request) => {
    const caller = await authenticate(context, request);
    if (!(await hasher.verify((request.body as { password: string }).password, caller.user.passwordHash))) throw new ApiError(401, 'bad_credentials', 'wrong password');
    await store.deleteUser(caller.user.id);
    return { deleted: true };
  });

  app.get('/v1/devices', { schema: { tags: ['devices'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const devices = await store.listDevices(caller.user.id);
    return {
      devices: devices.map((d) => ({ id: d.id, name: d.name, createdAtMs: d.createdAtMs, lastLoginMs: d.lastLoginMs, revoked: d.revokedAtMs !== null, current: d.id === caller.device.id })),
    };
  });

  // A device that a supernode dialled back becomes a supernode: the attestation is the evidence.
  app.post('/v1/devices/current/supernode-certificate', { schema: { body: schemas.supernodeCertificate, tags: ['devices'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const issued = supernodeCertificateFor(
      context.ca,
      { username: caller.user.username, signingKey: caller.device.signingKey, dhKey: caller.device.dhKey },
      bytes((request.body as { attestation: string }).attestation),
      { nowMs: now(), serial: await store.nextSerial(), lifetimeMs: config.certificateLifetimeMs },
    );
    if (!issued.ok) throw new ApiError(issued.error.code === 'not_your_key' ? 403 : 400, issued.error.code, issued.error.message);
    context.metrics.certificatesIssued.inc({ role: 'supernode' });
    return { certificate: toBase64Url(issued.value), certificateExpiresAtMs: now() + config.certificateLifetimeMs };
  });

  app.delete('/v1/devices/:id', { schema: { params: schemas.idParam, tags: ['devices'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const revoked = await store.revokeDevice(caller.user.id, (request.params as { id: number }).id, now());
    if (!revoked.ok) throw new ApiError(404, revoked.error.code, revoked.error.message);
    return { revoked: true };
  });
}
