// Whether dist/ is up to date, so that `npm start` right after `npm ci` (whose prepare step just
// built) does not build again. `npm run build` ends with `--write`, which stamps dist/; `--fresh`
// exits 0 when the stamp is newer than every input of the build, else 1 (then start builds).
// Inputs: the sources tsc and esbuild read, their configs, and the dependencies' lock.
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.build-stamp';
const INPUT_DIRS = ['src', 'test', 'bench', 'ui'];
const INPUT_FILES = ['tsconfig.json', 'package.json', 'package-lock.json', 'scripts/build-ui.mjs'];

function newestMtimeMs(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0; // an input that does not exist cannot be newer
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  // A folder's own mtime changes when a file is added, removed or renamed in it.
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtimeMs(join(path, name))), stat.mtimeMs);
}

const mode = process.argv[2];
if (mode === '--write') {
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  const now = new Date();
  utimesSync(STAMP, now, now);
} else if (mode === '--fresh') {
  let stampMs;
  try {
    stampMs = statSync(STAMP).mtimeMs;
  } catch {
    process.exit(1);
  }
  const newest = Math.max(...[...INPUT_DIRS, ...INPUT_FILES].map(newestMtimeMs));
  process.exit(newest < stampMs ? 0 : 1);
} else {
  console.error('usage: node scripts/build-stamp.mjs --write | --fresh');
  process.exit(2);
}
