// The registrar against SIP software nobody here wrote: Debian's sipsak (installed by
// scripts/setup) sends OPTIONS and registers with digest authentication over real UDP on
// loopback; a wrong password must not register. sipsak 0.9.8 answers only MD5 challenges (it
// gives up on the first WWW-Authenticate if that is SHA-256), so the authority here offers MD5;
// SHA-256 is covered by test/sip/digest.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { realEnv } from '../../src/env/real.js';
import { DigestAuthority } from '../../src/sip/digest-server.js';
import { Registrar } from '../../src/sip/registrar.js';

const run = promisify(execFile);

async function sipsak(args: string[]): Promise<{ output: string; code: number }> {
  try {
    const { stdout, stderr } = await run('sipsak', args, { timeout: 20_000 });
    return { output: stdout + stderr, code: 0 };
  } catch (error) {
    const e = error as { code?: string | number; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('sipsak is not installed: run scripts/setup (it installs Debian\'s sipsak)', { cause: error });
    return { output: `${e.stdout ?? ''}${e.stderr ?? ''}`, code: typeof e.code === 'number' ? e.code : -1 };
  }
}

test('sipsak gets OPTIONS answered and registers with a password; a wrong password registers nothing', { timeout: 60_000 }, async () => {
  const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
  const authority = new DigestAuthority({ realm: 'parley-gateway', secret: realEnv.random.bytes(32), passwordFor: (user) => (user === 'alice' ? 'wonderland' : null), algorithms: ['MD5'] });
  const registrar = new Registrar(socket, realEnv.clock, realEnv.random, authority, { domain: '127.0.0.1' });
  try {
    const target = `sip:alice@127.0.0.1:${socket.local.port}`;
    const options = await sipsak(['-vv', '-s', target]);
    assert.equal(options.code, 0, options.output);
    assert.match(options.output, /SIP\/2\.0 200 OK/, options.output);

    const wrong = await sipsak(['-U', '-i', '-vv', '-s', target, '-u', 'alice', '-a', 'guess', '-C', 'sip:alice@127.0.0.1:5099', '-x', '300']);
    assert.notEqual(wrong.code, 0, wrong.output);
    assert.deepEqual(registrar.contacts('sip:alice@127.0.0.1'), []);
    assert.equal(authority.refused.get('wrong_credentials'), 1);

    const right = await sipsak(['-U', '-i', '-vv', '-s', target, '-u', 'alice', '-a', 'wonderland', '-C', 'sip:alice@127.0.0.1:5099', '-x', '300']);
    assert.equal(right.code, 0, right.output);
    assert.match(right.output, /usrloc tests completed successful/, right.output);
    assert.deepEqual(registrar.contacts('sip:alice@127.0.0.1').map((c) => c.uri), ['sip:alice@127.0.0.1:5099']);
    assert.equal(registrar.counters.undecodable, 0);
    assert.equal(registrar.counters.badRequests, 0);
  } finally {
    registrar.close();
  }
});
