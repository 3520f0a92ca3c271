// Options from the command line, the environment and a config file: which one wins, and a
// typed error naming the option, variable or key for every mistake.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveOptions, variableName, type CommandUsage, type OptionSources } from '../../src/cli/options.js';
import { parsePortRange } from '../../src/cli/commands.js';
import { UsageError } from '../../src/cli/arguments.js';

const SERVER: CommandUsage = {
  name: 'server',
  synopsis: [],
  summary: '',
  description: '',
  configurable: true,
  options: [
    { name: 'data', kind: 'string', default: '.data', help: '' },
    { name: 'port', kind: 'string', default: '8443', help: '' },
    { name: 'database', kind: 'string', help: '', alsoFrom: ['DATABASE_URL'] },
    { name: 'tls-cert', kind: 'string', help: '' },
    { name: 'public-host', kind: 'list', help: '' },
    { name: 'app', kind: 'boolean', help: '' },
  ],
};
const CLIENT: CommandUsage = { ...SERVER, name: 'client', configurable: false };

function sources(env: Record<string, string> = {}, files: Record<string, string> = {}): OptionSources & { read: string[] } {
  const read: string[] = [];
  return {
    env,
    read,
    readFile: (path) => {
      read.push(path);
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
  };
}

function values(usage: CommandUsage, args: string[], from: OptionSources) {
  const result = resolveOptions(usage, args, from);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.error));
  return result.value;
}

function error(usage: CommandUsage, args: string[], from: OptionSources) {
  const result = resolveOptions(usage, args, from);
  assert.ok(!result.ok, 'expected an error');
  return result.error;
}

test('variable names are PARLEY_ and the option in upper snake case', () => {
  assert.equal(variableName('data'), 'PARLEY_DATA');
  assert.equal(variableName('tls-cert'), 'PARLEY_TLS_CERT');
  assert.equal(variableName('certificate-hours'), 'PARLEY_CERTIFICATE_HOURS');
});

test('precedence: command line over environment over config file over default, per option', () => {
  const config = JSON.stringify({ data: '/from/file', port: 7000, database: 'postgres://file', 'tls-cert': 'file.pem' });
  const from = sources({ PARLEY_PORT: '7001', PARLEY_DATABASE: 'postgres://env', PARLEY_CONFIG: 'c.json' }, { 'c.json': config });
  const resolved = values(SERVER, ['--database', 'postgres://line'], from);
  assert.equal(resolved.values.get('database'), 'postgres://line');
  assert.equal(resolved.sources.get('database'), 'command line');
  assert.equal(resolved.values.get('port'), '7001');
  assert.equal(resolved.sources.get('port'), 'PARLEY_PORT');
  assert.equal(resolved.values.get('data'), '/from/file');
  assert.equal(resolved.sources.get('data'), 'c.json');
  assert.equal(resolved.values.get('tls-cert'), 'file.pem');
  assert.equal(resolved.values.get('app'), undefined, 'a switch nobody set is unset');
  assert.deepEqual(from.read, ['c.json']);

  const bare = values(SERVER, [], sources());
  assert.equal(bare.values.get('data'), '.data');
  assert.equal(bare.sources.get('data'), 'default');
  assert.equal(bare.values.get('database'), undefined);
});

test('--config on the command line wins over PARLEY_CONFIG; DATABASE_URL is read after PARLEY_DATABASE', () => {
  const from = sources({ PARLEY_CONFIG: 'env.json', DATABASE_URL: 'postgres://url' }, { 'env.json': '{"data":"env"}', 'line.json': '{"data":"line"}' });
  const resolved = values(SERVER, ['--config', 'line.json'], from);
  assert.equal(resolved.values.get('data'), 'line');
  assert.deepEqual(from.read, ['line.json']);
  assert.equal(resolved.values.get('database'), 'postgres://url');
  assert.equal(resolved.sources.get('database'), 'DATABASE_URL');
  assert.equal(values(SERVER, [], sources({ PARLEY_DATABASE: 'postgres://p', DATABASE_URL: 'postgres://url' })).values.get('database'), 'postgres://p');
});

test('lists and switches from each source', () => {
  assert.deepEqual(values(SERVER, ['--public-host', 'a', '--public-host', 'b'], sources()).values.get('public-host'), ['a', 'b']);
  assert.deepEqual(values(SERVER, [], sources({ PARLEY_PUBLIC_HOST: 'a, b,,c' })).values.get('public-host'), ['a', 'b', 'c']);
  assert.deepEqual(values(SERVER, ['--config', 'f'], sources({}, { f: '{"public-host":["x","y"],"app":true}' })).values.get('public-host'), ['x', 'y']);
  assert.deepEqual(values(SERVER, ['--config', 'f'], sources({}, { f: '{"public-host":"x"}' })).values.get('public-host'), ['x']);
  assert.equal(values(SERVER, ['--config', 'f'], sources({}, { f: '{"app":true}' })).values.get('app'), true);
  assert.equal(values(SERVER, [], sources({ PARLEY_APP: 'yes' })).values.get('app'), true);
  assert.equal(values(SERVER, ['--config', 'f'], sources({ PARLEY_APP: '0' }, { f: '{"app":true}' })).values.get('app'), false, 'the environment turns off what the file turned on');
  assert.equal(values(SERVER, [], sources({ PARLEY_PORT: '' })).values.get('port'), '8443', 'an empty variable is unset');
});

test('a command that is not a server reads neither the environment nor a config file', () => {
  const from = sources({ PARLEY_DATA: '/env' }, { f: '{}' });
  assert.equal(values(CLIENT, [], from).values.get('data'), '.data');
  assert.deepEqual(error(CLIENT, ['--config', 'f'], from), { code: 'unknown_option', option: '--config' });
});

test('every mistake is a typed error that names the option, variable or key', () => {
  assert.deepEqual(error(SERVER, ['--nope'], sources()), { code: 'unknown_option', option: '--nope' });
  assert.deepEqual(error(SERVER, ['--nope=3'], sources()), { code: 'unknown_option', option: '--nope' });
  assert.deepEqual(error(SERVER, ['-x'], sources()), { code: 'unknown_option', option: '-x' });
  assert.deepEqual(error(SERVER, ['--port'], sources()), { code: 'missing_value', option: '--port' });
  assert.deepEqual(error(SERVER, ['--app=no'], sources()), { code: 'unexpected_value', option: '--app' });
  assert.equal(error(SERVER, [], sources({ PARLEY_APP: 'maybe' })).code, 'bad_variable');
  assert.deepEqual(error(SERVER, ['--config', 'missing.json'], sources()), { code: 'config_unreadable', file: 'missing.json', message: "ENOENT: no such file, open 'missing.json'" });
  assert.equal(error(SERVER, ['--config', 'f'], sources({}, { f: '{"port": 1,' })).code, 'config_invalid');
  assert.deepEqual(error(SERVER, ['--config', 'f'], sources({}, { f: '[1]' })), { code: 'config_invalid', file: 'f', message: 'not a JSON object' });
  assert.deepEqual(error(SERVER, ['--config', 'f'], sources({}, { f: '{"data":"d","prot":1}' })), { code: 'config_unknown_key', file: 'f', key: 'prot' });
  assert.deepEqual(error(SERVER, ['--config', 'f'], sources({}, { f: '{"config":"other.json"}' })), { code: 'config_unknown_key', file: 'f', key: 'config' });
  assert.deepEqual(error(SERVER, ['--config', 'f'], sources({}, { f: '{"port":{"n":1}}' })), { code: 'config_bad_value', file: 'f', key: 'port', message: 'must be a string or a number' });
  assert.equal(error(SERVER, ['--config', 'f'], sources({}, { f: '{"app":"yes"}' })).code, 'config_bad_value');
  assert.equal(error(SERVER, ['--config', 'f'], sources({}, { f: '{"public-host":[1]}' })).code, 'config_bad_value');
});

test('--help and -h win over every other mistake and read nothing', () => {
  for (const args of [['--help'], ['-h'], ['--nope', '--help'], ['--port', '-h'], ['--config', 'missing.json', '-h']]) {
    const from = sources({ PARLEY_APP: 'maybe' });
    const resolved = values(SERVER, args, from);
    assert.equal(resolved.help, true, args.join(' '));
    assert.deepEqual(from.read, [], 'no config file read for help');
  }
  assert.equal(values(SERVER, ['--data', 'x'], sources()).help, false);
});

test('positionals stay in order, also after --', () => {
  assert.deepEqual(values(CLIENT, ['alice', '--data', 'd', 'hello', '--', '--not-an-option'], sources()).positionals, ['alice', 'hello', '--not-an-option']);
});

test('--relay-ports takes an unprivileged range, low end first, and refuses anything else by name', () => {
  assert.deepEqual(parsePortRange('49152-65535'), { min: 49152, max: 65535 });
  assert.deepEqual(parsePortRange(' 50000-50000 '), { min: 50000, max: 50000 });
  assert.equal(parsePortRange(undefined), undefined);
  for (const bad of ['65535-49152', '80-90', '50000', '50000-70000', 'a-b', '-1-5', '50000-50001-50002']) {
    assert.throws(() => parsePortRange(bad), (error: Error) => error instanceof UsageError && error.message.includes('--relay-ports') && error.message.includes(bad), bad);
  }
});
