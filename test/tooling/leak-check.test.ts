// The leak check (test/support/leak-check.ts) fails a test file that leaves a timer or a server
// open, names what was left and the file, and lets a tidy file pass. The fixtures run in a
// child test runner, as scripts/test.mjs runs every file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { leftoverResources } from '../support/leak-check.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const LEAK_CHECK = here('../support/leak-check.js');
/** A hung child (the check not working) ends the test instead of holding it. */
const CHILD_TIMEOUT_MS = 60_000;

function runWithLeakCheck(fixture: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    // The child is a test runner of its own, not a test file of this run.
    delete env.NODE_TEST_CONTEXT;
    delete env.PARLEY_LEAK_CHECK;
    const child = spawn(process.execPath, ['--import', LEAK_CHECK, '--test', '--test-reporter=spec', here(`../fixtures/leak-check/${fixture}.js`)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('leftovers are what the process holds beyond its baseline, transient requests left out', () => {
  assert.deepEqual(leftoverResources(['PipeWrap', 'PipeWrap'], ['PipeWrap', 'PipeWrap', 'Timeout', 'CloseReq', 'TCPServerWrap', 'Timeout']), ['TCPServerWrap', 'Timeout', 'Timeout']);
  assert.deepEqual(leftoverResources(['PipeWrap', 'CloseReq'], ['PipeWrap']), []);
  assert.deepEqual(leftoverResources(['PipeWrap'], ['PipeWrap', 'PipeWrap']), ['PipeWrap']);
});

test('a file that leaves an interval and a server open fails, and the report names both and the file', async () => {
  const { code, output } = await runWithLeakCheck('leaky');
  assert.notEqual(code, 0, output);
  assert.match(output, /leak check: leaky\.js left open after its last test: 1 × TCPServerWrap, 1 × Timeout/);
});

test('a file that closes what it opened passes with no report', async () => {
  const { code, output } = await runWithLeakCheck('tidy');
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /leak check/);
});

test('a file that closes what it opened in its own top-level after() hook passes: the check runs after that hook', async () => {
  const { code, output } = await runWithLeakCheck('closes-in-after');
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /leak check/);
});
