// `parley <command> --help` for every command in the table: it prints that command's help and
// exits 0 without starting, binding or writing anything (run in an empty folder with an empty
// HOME, both still empty afterwards). Also the overview, and errors that name the bad option.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { PARLEY_MAIN as MAIN } from '../support/processes.js';

/** Runs parley in a fresh empty folder with a fresh empty HOME; reports what it left in either. */
function inEmptyFolders(args: string[], env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'parley-help-cwd-'));
  const home = mkdtempSync(join(tmpdir(), 'parley-help-home-'));
  try {
    // Variables a server would act on: help must ignore them (PARLEY_CONFIG names no file).
    const run = spawnSync(process.execPath, [MAIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: home, PARLEY_CONFIG: join(cwd, 'missing.json'), PARLEY_PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, left: [...readdirSync(cwd), ...readdirSync(home)] };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

test('parley <command> --help prints its help, exits 0 and writes nothing, for every command', { timeout: 120_000 }, () => {
  assert.ok(COMMANDS.length >= 20, 'the table holds the commands');
  for (const { usage } of COMMANDS) {
    const flag = usage.name === 'local' ? '-h' : '--help';
    const run = inEmptyFolders([usage.name, flag]);
    assert.equal(run.status, 0, `parley ${usage.name} ${flag}: ${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^  parley ${usage.name}\\b`, 'm'), `the synopsis names ${usage.name}`);
    for (const option of usage.options) assert.ok(run.stdout.includes(`--${option.name}`), `parley ${usage.name} --help lists --${option.name}`);
    assert.equal(run.stdout.includes('PARLEY_<OPTION>'), usage.configurable === true, `${usage.name}: the environment and --config are mentioned for servers only`);
    assert.deepEqual(run.left, [], `parley ${usage.name} --help wrote nothing`);
  }
});

test('help wins over other mistakes on the line: parley login-server --port --help starts nothing', () => {
  const run = inEmptyFolders(['login-server', '--bogus', '--port', '--help']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /parley login-server/);
  assert.deepEqual(run.left, []);
});

test('parley, parley --help and parley help list every command, one line each; parley help <command> is its help', () => {
  for (const args of [[], ['--help'], ['help']]) {
    const run = inEmptyFolders(args);
    assert.equal(run.status, 0, `parley ${args.join(' ')}: ${run.stderr}`);
    for (const { usage } of COMMANDS) assert.match(run.stdout, new RegExp(`^  ${usage.name} +\\S`, 'm'), `parley ${args.join(' ')} lists ${usage.name}`);
    assert.deepEqual(run.left, []);
  }
  const one = inEmptyFolders(['help', 'supernode']);
  assert.equal(one.status, 0);
  assert.match(one.stdout, /^ {2}parley supernode \[--dir D\]/m);
  assert.doesNotMatch(one.stdout, /parley login-server/);
  const unknown = inEmptyFolders(['help', 'nonsense']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command: nonsense/);
});

test('an unknown option: exit 2, the message names it and the command and points to the command\'s help', () => {
  const run = inEmptyFolders(['login-server', '--datta', 'x']);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /parley login-server: unknown option --datta/);
  assert.match(run.stderr, /parley login-server --help/);
  assert.ok(run.stderr.split('\n').length < 6, `a short message, not the whole usage: ${run.stderr}`);
  assert.deepEqual(run.left, []);
  const client = inEmptyFolders(['chat', 'bob', 'hi', '--dir', 'x']);
  assert.equal(client.status, 2);
  assert.match(client.stderr, /parley chat: unknown option --dir/);
});

test('configuration mistakes are usage errors that name the variable, or the key and the file, before anything starts', () => {
  const badVariable = inEmptyFolders(['login-server'], { PARLEY_PORT: 'eighty', PARLEY_CONFIG: '' });
  assert.equal(badVariable.status, 2);
  assert.match(badVariable.stderr, /--port must be a whole number from 0 to 65535 \(got "eighty" from PARLEY_PORT\)/);
  assert.deepEqual(badVariable.left, []);
  const missing = inEmptyFolders(['login-server']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read the config file .*missing\.json/);
  assert.deepEqual(missing.left, []);

  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  try {
    const file = join(dir, 'server.json');
    writeFileSync(file, JSON.stringify({ dir: join(dir, 'data'), prot: 8443 }));
    const unknownKey = inEmptyFolders(['supernode', '--config', file]);
    assert.equal(unknownKey.status, 2);
    assert.ok(unknownKey.stderr.includes(`unknown key "prot" in the config file ${file}`), unknownKey.stderr);
    writeFileSync(file, JSON.stringify({ data: join(dir, 'data'), 'certificate-hours': 0 }));
    const badValue = inEmptyFolders(['login-server', '--config', file]);
    assert.equal(badValue.status, 2);
    assert.ok(badValue.stderr.includes(`--certificate-hours must be a whole number from 1 to 8760 (got "0" from ${file})`), badValue.stderr);
    assert.deepEqual(readdirSync(dir), ['server.json'], 'nothing was started');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--listen6 and --public-host6 are checked before anything starts: IPv6 addresses, a public one with ::', () => {
  for (const [args, message] of [
    [['--listen6', '192.0.2.1'], /--listen6 takes an IPv6 address/],
    [['--listen6', '::'], /--listen6 :: listens on every IPv6 address: give --public-host6/],
    [['--listen6', '::', '--public-host6', 'example.org'], /--public-host6 takes the IPv6 address/],
    [['--public-host6', '2001:db8::1'], /--public-host6 goes with --listen6/],
  ] as const) {
    const run = inEmptyFolders(['supernode', ...args], { PARLEY_CONFIG: '' });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.deepEqual(run.left, [], 'nothing written');
  }
});
