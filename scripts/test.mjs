// Runs node's built-in test runner on the compiled test files (dist/test/**/*.test.js).
// Node 20 has no glob support for --test, so the files are listed here. The store tests need
// a real PostgreSQL: unless PARLEY_TEST_POSTGRES_URL names one, a throwaway cluster is started
// for the run and removed after it. Each test file runs with test/support/leak-check.ts loaded.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from './postgres.mjs';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const files = find('dist/test').sort();
const extra = process.argv.slice(2);
let postgres = null;
if (!process.env.PARLEY_TEST_POSTGRES_URL) {
  postgres = await startPostgres();
  process.env.PARLEY_TEST_POSTGRES_URL = postgres.url;
}
let status;
try {
  // Every test file's process loads the leak check: a file that leaves a timer or socket open fails (PARLEY_LEAK_CHECK=0 turns it off).
  const leakCheck = ['--import', './dist/test/support/leak-check.js'];
  const result = spawnSync(process.execPath, [...leakCheck, '--test', '--test-reporter=spec', '--test-concurrency=2', ...extra, ...files], { stdio: 'inherit' });
  status = result.status ?? 1;
} finally {
  postgres?.stop();
}
process.exit(status);
