// Runs node's built-in test runner on the compiled test files (dist/test/**/*.test.js).
// Node 20 has no glob support for --test, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const files = find('dist/test').sort();
const extra = process.argv.slice(2);
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=2', ...extra, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
