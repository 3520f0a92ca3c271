// What Parley keeps on disk is owner-only: folders it creates 0700, files 0600, whatever the
// umask (the tests run with umask 0, so anything created without an explicit mode shows up as
// 0666 or 0777). Checked on a real login server's data folder and a client profile after a login.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { realEnv } from '../../src/env/real.js';
import { makePrivateDir, preparePrivateDatabase } from '../../src/env/private-files.js';
import { runLoginServer } from '../../src/login-server/main.js';
import { parseNetworkDescriptor } from '../../src/crypto/descriptor.js';
import { LoginClient } from '../../src/client/login-client.js';
import { Account } from '../../src/client/account.js';
import { ChatHistory } from '../../src/chat/history.js';
import { DEFAULT_SETTINGS, writeSettings } from '../../src/daemon/settings.js';

const CHEAP_SCRYPT = { logN: 10, r: 8, p: 1 } as const;

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** Every folder and file under `root` (root included) with its mode. */
function modesUnder(root: string): Map<string, number> {
  const found = new Map<string, number>([[root, modeOf(root)]]);
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) for (const [p, m] of modesUnder(path)) found.set(p, m);
    else found.set(path, modeOf(path));
  }
  return found;
}

function assertPrivate(root: string): void {
  for (const [path, mode] of modesUnder(root)) {
    const want = statSync(path).isDirectory() ? 0o700 : 0o600;
    assert.equal(mode.toString(8), want.toString(8), `${path} is ${mode.toString(8)}`);
  }
}

/** Runs `work` with umask 0, so that only explicit modes protect anything. */
async function withOpenUmask<T>(work: () => Promise<T>): Promise<T> {
  const before = process.umask(0);
  try {
    return await work();
  } finally {
    process.umask(before);
  }
}

test('makePrivateDir makes every folder it creates 0700 and leaves one that existed alone', () =>
  withOpenUmask(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-private-'));
    try {
      chmodSync(dir, 0o755);
      makePrivateDir(join(dir, 'a', 'b', 'c'));
      for (const path of [join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'c')]) assert.equal(modeOf(path), 0o700, path);
      assert.equal(modeOf(dir), 0o755, 'the existing parent keeps its mode');
      mkdirSync(join(dir, 'shared'), { mode: 0o750 });
      makePrivateDir(join(dir, 'shared'));
      assert.equal(modeOf(join(dir, 'shared')), 0o750);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test('preparePrivateDatabase creates the file 0600 and tightens a database and its companions left looser', () =>
  withOpenUmask(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-private-'));
    try {
      const path = join(dir, 'x.db');
      preparePrivateDatabase(path);
      assert.equal(modeOf(path), 0o600);
      assert.equal(statSync(path).size, 0);
      for (const p of [path, `${path}-wal`, `${path}-shm`]) writeFileSync(p, 'old', { mode: 0o644 });
      preparePrivateDatabase(path);
      for (const p of [path, `${path}-wal`, `${path}-shm`]) assert.equal(modeOf(p), 0o600, p);
      assert.equal(readFileSync(path, 'utf8'), 'old', 'an existing database is not truncated');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test('a login server and a client profile after a login: every folder 0700, every file 0600 (database, WAL and SHM included)', { timeout: 60_000 }, () =>
  withOpenUmask(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-private-'));
    const dataDir = join(dir, 'srv', 'login');
    const profile = join(dir, 'home', '.parley');
    let server = await runLoginServer(realEnv, { dataDir, host: '127.0.0.1', port: 0, scryptCost: CHEAP_SCRYPT });
    let history: ChatHistory | null = null;
    try {
      for (const name of ['ca.key.json', 'tls.key.pem', 'tls.cert.pem', 'network.json', 'login.db', 'login.db-wal', 'login.db-shm']) {
        assert.ok(readdirSync(dataDir).includes(name), `the login server made ${name}`);
      }
      const parsed = parseNetworkDescriptor(readFileSync(join(dataDir, 'network.json'), 'utf8'));
      assert.ok(parsed.ok);
      const account = new Account(new LoginClient(parsed.value), parsed.value, profile, 'alice', realEnv);
      await account.register('alice password 1');
      await account.loginWithPassword('alice password 1', 'test device');
      writeSettings(account.settingsPath, DEFAULT_SETTINGS);
      history = ChatHistory.open(account.historyPath);
      history.add({ id: 'm1', conversation: 'bob', from: 'bob', fromDevice: 'd', sentAtMs: 1, receivedAtMs: 2, text: 'hello', offline: false });
      for (const name of ['device.key.json', 'session.json', 'settings.json', 'history.sqlite', 'history.sqlite-wal']) {
        assert.ok(readdirSync(join(profile, 'alice')).includes(name), `the profile holds ${name}`);
      }
      assertPrivate(join(dir, 'srv'));
      assertPrivate(join(dir, 'home'));

      // A database an older version left 0644 is tightened at the next start.
      await server.close();
      chmodSync(join(dataDir, 'login.db'), 0o644);
      server = await runLoginServer(realEnv, { dataDir, host: '127.0.0.1', port: 0, scryptCost: CHEAP_SCRYPT });
      assertPrivate(join(dir, 'srv'));
    } finally {
      history?.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }));
