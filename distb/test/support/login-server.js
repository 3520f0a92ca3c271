import { cryptoRandom } from '../../src/env/real.js';
import { createNetworkCa } from '../../src/crypto/certificate.js';
import { fromBase64Url, toBase64Url } from '../../src/crypto/bytes.js';
import { signBytes } from '../../src/crypto/ed25519.js';
import { generateDeviceKeys } from '../../src/crypto/identity.js';
import { createServerContext, DEFAULT_CONFIG } from '../../src/login-server/context.js';
import { PasswordHasher } from '../../src/login-server/passwords.js';
import { challengeMessage, deviceProofMessage } from '../../src/login-server/routes/accounts.js';
import { buildLoginServer } from '../../src/login-server/server.js';
import { LoginStore } from '../../src/login-server/store/login-store.js';
export class ManualClock {
    wallMs;
    constructor(wallMs) {
        this.wallMs = wallMs;
    }
    now() {
        return this.wallMs;
    }
    wallTimeMs() {
        return this.wallMs;
    }
    after() {
        throw new Error('the login server sets no timers');
    }
}
export const FAST_HASH = new PasswordHasher({ logN: 10, r: 8, p: 1 });
export async function testServer(database, options = {}) {
    const ca = options.ca ?? createNetworkCa(cryptoRandom);
    const clock = options.clock ?? new ManualClock(Date.UTC(2026, 0, 1));
    const context = createServerContext({
        store: new LoginStore(database, options.limits),
        ca,
        hasher: options.hasher ?? FAST_HASH,
        clock,
        random: cryptoRandom,
        config: { ...DEFAULT_CONFIG, ...options.config },
    });
    const app = await buildLoginServer(context, options.server);
    return { app, context, ca, clock, close: async () => { await app.close(); await context.store.close(); } };
}
export async function call(app, method, url, body, token, ip = '10.1.1.1') {
    const response = await app.inject({
        method,
        url,
        remoteAddress: ip,
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } } : token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    return { status: response.statusCode, body: response.json(), headers: response.headers };
}
/** A device with its own keys, as a client keeps them. */
export class TestDevice {
    app;
    ca;
    username;
    password;
    keys = generateDeviceKeys(cryptoRandom);
    token = '';
    certificate = new Uint8Array(0);
    deviceId = 0;
    constructor(app, ca, username, password = 'correct horse battery') {
        this.app = app;
        this.ca = ca;
        this.username = username;
        this.password = password;
    }
    register(extra = {}) {
        return call(this.app, 'POST', '/v1/accounts', { username: this.username, password: this.password, ...extra });
    }
    adopt(response) {
        if (response.status === 200) {
            this.token = response.body.accessToken;
            this.certificate = fromBase64Url(response.body.certificate);
            this.deviceId = response.body.deviceId;
        }
        return response;
    }
    async passwordLogin(password = this.password, ip) {
        const proof = signBytes(this.keys.signing, deviceProofMessage(this.ca.networkId, this.username.toLowerCase(), this.keys.dh.publicKey));
        const device = { signingKey: toBase64Url(this.keys.signing.publicKey), dhKey: toBase64Url(this.keys.dh.publicKey), name: 'test device', proof: toBase64Url(proof) };
        return this.adopt(await call(this.app, 'POST', '/v1/login/password', { username: this.username, password, device }, undefined, ip));
    }
    async challenge() {
        const response = await call(this.app, 'POST', '/v1/login/challenge', { signingKey: toBase64Url(this.keys.signing.publicKey) });
        if (response.status !== 200)
            throw new Error(`challenge: ${response.status} ${JSON.stringify(response.body)}`);
        return response.body.challenge;
    }
    async deviceLogin(challenge) {
        const c = challenge ?? (await this.challenge());
        const signature = signBytes(this.keys.signing, challengeMessage(this.ca.networkId, fromBase64Url(c)));
        return this.adopt(await call(this.app, 'POST', '/v1/login/device', { signingKey: toBase64Url(this.keys.signing.publicKey), challenge: c, signature: toBase64Url(signature) }));
    }
    get(url) {
        return call(this.app, 'GET', url, undefined, this.token);
    }
    send(method, url, body) {
        return call(this.app, method, url, body, this.token);
    }
}
//# sourceMappingURL=login-server.js.map