// The login client when there is no HTTP answer: a stopped server, a silent one, one with the
// wrong certificate. Each is a LoginError with a stable code and the server's URL in its words,
// not a raw socket error ("connect ECONNREFUSED 127.0.0.1:9").
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { test } from 'node:test';
import { LoginClient, LoginError, loginServerFailure } from '../../src/client/login-client.js';
import { createSelfSignedCertificate } from '../../src/login-server/self-signed.js';
const descriptor = (url, pin) => ({ loginServerUrl: url, ...(pin ? { loginServerCertificate: pin.certPem, loginServerCertSha256: pin.sha256 } : {}) });
/** `work`'s rejection, which must be a LoginError. */
async function failure(work) {
    const error = await work.then(() => null, (e) => e);
    assert.ok(error instanceof LoginError, `a LoginError, not ${String(error)}`);
    return error;
}
/** A TCP server on loopback (its port), closed with every connection it took. */
async function listen(onConnection) {
    const sockets = new Set();
    const server = net.createServer((socket) => {
        sockets.add(socket);
        onConnection(socket);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        port: server.address().port,
        close: () => {
            for (const socket of sockets)
                socket.destroy();
            server.close();
        },
    };
}
test('a stopped login server is "unreachable", named by its URL, not a raw ECONNREFUSED', async () => {
    const gone = await listen(() => { });
    gone.close(); // its port is free now: nobody listens there
    const client = new LoginClient(descriptor(`https://127.0.0.1:${gone.port}`));
    try {
        const error = await failure(client.request('GET', '/v1/version'));
        assert.equal(error.code, 'unreachable');
        assert.equal(error.status, 0, 'no HTTP status: there was no answer');
        assert.equal(error.message, `unreachable: the login server at https://127.0.0.1:${gone.port} does not answer: connection refused (is it running?)`);
    }
    finally {
        client.close();
    }
});
test('a login server that takes the connection and never answers is "unreachable" after the request timeout', async () => {
    const silent = await listen(() => { });
    const client = new LoginClient(descriptor(`https://127.0.0.1:${silent.port}`), 200);
    try {
        const error = await failure(client.request('GET', '/v1/version'));
        assert.equal(error.code, 'unreachable');
        assert.match(error.message, new RegExp(`the login server at https://127\\.0\\.0\\.1:${silent.port} does not answer: no answer within 200 ms`));
    }
    finally {
        client.close();
        silent.close();
    }
});
test('a server whose certificate is not the pinned one is "untrusted_certificate", not unreachable', async () => {
    const theirs = createSelfSignedCertificate({ commonName: 'someone else', hosts: ['127.0.0.1'], lifetimeDays: 30, now: new Date() });
    const pinned = createSelfSignedCertificate({ commonName: 'parley login', hosts: ['127.0.0.1'], lifetimeDays: 30, now: new Date() });
    const server = https.createServer({ key: theirs.keyPem, cert: theirs.certPem }, (_request, response) => response.end('{}'));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = server.address().port;
    const client = new LoginClient(descriptor(`https://127.0.0.1:${port}`, pinned));
    try {
        const error = await failure(client.request('GET', '/v1/version'));
        assert.equal(error.code, 'untrusted_certificate', error.message);
        assert.match(error.message, new RegExp(`the login server at https://127\\.0\\.0\\.1:${port} is not the one this network names`));
    }
    finally {
        client.close();
        server.closeAllConnections();
        server.close();
    }
});
test('every kind of connection failure becomes "unreachable" with the URL and a reason in words', () => {
    for (const [code, words] of [
        ['ENOTFOUND', 'its name does not resolve'],
        ['EAI_AGAIN', 'its name does not resolve'],
        ['EHOSTUNREACH', 'its host cannot be reached'],
        ['ENETUNREACH', 'its network cannot be reached'],
        ['ECONNRESET', 'the connection was reset'],
        ['ETIMEDOUT', 'no answer in time'],
    ]) {
        const error = loginServerFailure(Object.assign(new Error(`connect ${code} 10.0.0.9:443`), { code }), 'https://login.example');
        assert.equal(error.code, 'unreachable', code);
        assert.ok(error.message.startsWith(`unreachable: the login server at https://login.example does not answer: ${words}`), error.message);
        assert.doesNotMatch(error.message, new RegExp(code), 'the raw code is not what the user reads');
    }
    const unknown = loginServerFailure(new Error('something new'), 'https://login.example');
    assert.equal(unknown.code, 'unreachable');
    assert.match(unknown.message, /does not answer: something new$/, 'an unknown failure keeps its own words');
    const answered = new LoginError(409, 'username_taken', 'taken');
    assert.equal(loginServerFailure(answered, 'https://login.example'), answered, "the server's own refusals pass unchanged");
});
//# sourceMappingURL=login-client.test.js.map