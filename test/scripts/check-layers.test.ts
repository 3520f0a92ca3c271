// The import-graph check (scripts/check-layers.mjs, run by `npm run lint`) on small trees built
// in a temporary folder: it must catch an upward import, an import across a layer that its table
// does not allow, and a cycle (whatever form the imports take), say where and why, honour and
// police its allow-list, and fail the build from the command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Unit {
  readonly layer: number;
  readonly peers: readonly string[];
}
interface Allowed {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}
interface Checker {
  checkImports(root: string, tables?: { units?: Record<string, Unit>; allowed?: readonly Allowed[] }): string[];
  readonly UNITS: Record<string, Unit>;
}

// dist/test/scripts/ → the repository's scripts/ (the checker runs from its source: it needs no build).
const SCRIPT = fileURLToPath(new URL('../../../scripts/check-layers.mjs', import.meta.url));
const { checkImports, UNITS } = (await import(pathToFileURL(SCRIPT).href)) as Checker;

/** Runs `check` on a tree of `files` (path → text) in a fresh temporary folder, removed after. */
function withTree<T>(files: Record<string, string>, check: (root: string) => T): T {
  const root = mkdtempSync(join(tmpdir(), 'parley-layers-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return check(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const NO_ALLOWED: readonly Allowed[] = [];

test('an import from a lower layer to a higher one is refused, with the file, the line and the rule', () => {
  const problems = withTree(
    {
      'src/env/clock.ts': "import { x } from './types.js';\nimport { startDevice } from '../client/device.js';\nexport const y = x + startDevice;\n",
      'src/env/types.ts': 'export const x = 1;\n',
      'src/client/device.ts': "import { x } from '../env/types.js';\nexport const startDevice = x;\n",
    },
    (root) => checkImports(root, { allowed: NO_ALLOWED }),
  );
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^src\/env\/clock\.ts:2 imports src\/client\/device\.ts: upward import \(env is in layer "base", client in the higher layer "node roles"\)$/);
});

test('within a layer only the peers the table names may be imported', () => {
  const problems = withTree(
    {
      // client may import supernode (a promoted device runs one), not the other way round.
      'src/client/promotion.ts': "import { start } from '../supernode/supernode.js';\nexport const promote = start;\n",
      'src/supernode/supernode.ts': 'export const start = 1;\n',
      'src/supernode/enrolment.ts': "import type { Login } from '../client/login.js';\nexport type L = Login;\n",
      'src/client/login.ts': 'export interface Login { readonly user: string }\n',
    },
    (root) => checkImports(root, { allowed: NO_ALLOWED }),
  );
  assert.deepEqual(problems, ['src/supernode/enrolment.ts:1 imports src/client/login.ts: supernode may not import client (same layer "node roles"; of its layer supernode may import none)']);
});

test('a cycle is found whatever form its imports take, and shown as the circle it is', () => {
  const problems = withTree(
    {
      'src/overlay/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
      'src/overlay/b.ts': "export { c as b } from './c.js';\nexport type B = number;\n",
      'src/overlay/c.ts': "export const c = 1;\nexport async function load() {\n  return import('./a.js');\n}\n",
      'src/overlay/d.ts': "import { c } from './c.js';\nexport const d = c;\n", // leads into the cycle, is not part of it
      'test/support/one.ts': "import { two } from './two.js';\nexport const one = two;\n",
      'test/support/two.ts': "import { one } from './one.js';\nexport const two = () => one;\n",
    },
    (root) => checkImports(root, { allowed: NO_ALLOWED }),
  );
  assert.deepEqual(problems, [
    'import cycle: files may not import each other in a circle:\n' +
      '  src/overlay/a.ts:1 imports src/overlay/b.ts\n' +
      '  src/overlay/b.ts:1 imports src/overlay/c.ts\n' +
      '  src/overlay/c.ts:3 imports src/overlay/a.ts',
    'import cycle: files may not import each other in a circle:\n' + '  test/support/one.ts:1 imports test/support/two.ts\n' + '  test/support/two.ts:1 imports test/support/one.ts',
  ]);
});

test('an import in a comment or a string is not an import', () => {
  const problems = withTree(
    {
      'src/env/a.ts': "// import { b } from '../client/b.js';\nexport const text = \"import { b } from '../client/b.js'\";\n",
      'src/client/b.ts': 'export const b = 1;\n',
    },
    (root) => checkImports(root, { allowed: NO_ALLOWED }),
  );
  assert.deepEqual(problems, []);
});

test('the allow-list lets a known import through, for both rules, and an entry that matches nothing is an error', () => {
  const files = {
    'src/nat/connector.ts': "import type { Relation } from '../chat/chat-client.js';\nexport type R = Relation;\n",
    'src/chat/chat-client.ts': "import type { R } from '../nat/connector.js';\nexport type Relation = R | 'buddy';\n",
  };
  const allowed: Allowed[] = [{ from: 'src/nat/connector.ts', to: 'src/chat/', why: 'being fixed' }];
  assert.deepEqual(
    withTree(files, (root) => checkImports(root, { allowed })),
    [],
    'the upward import and the cycle it closes are both allowed',
  );

  const stale: Allowed[] = [...allowed, { from: 'src/chat/', to: 'src/client/', why: 'fixed already' }];
  assert.deepEqual(withTree(files, (root) => checkImports(root, { allowed: stale })), [
    'allow-list entry src/chat/ → src/client/ (fixed already) matches no import any more: remove it from scripts/check-layers.mjs',
  ]);
});

test('a folder missing from the table, and layered code importing tests, are refused', () => {
  const problems = withTree(
    {
      'src/gadgets/g.ts': 'export const g = 1;\n',
      'src/media/m.ts': "import { fake } from '../../test/support/fake.js';\nexport const m = fake;\n",
      'test/support/fake.ts': "import { g } from '../../src/gadgets/g.js';\nexport const fake = g;\n",
    },
    (root) => checkImports(root, { allowed: NO_ALLOWED }),
  );
  assert.deepEqual(problems, [
    'src/gadgets/g.ts: gadgets is not in the layer table (scripts/check-layers.mjs): give it a layer',
    'src/media/m.ts:1 imports test/support/fake.ts: layered code may not import tests or benchmarks',
  ]);
});

test('the table itself is consistent: every peer is a unit of the same layer, and no two units are each other\'s peers', () => {
  for (const [name, unit] of Object.entries(UNITS)) {
    for (const peer of unit.peers) {
      assert.equal(UNITS[peer]?.layer, unit.layer, `${name}'s peer ${peer} is in the same layer`);
      assert.ok(!UNITS[peer]!.peers.includes(name), `${name} and ${peer} may not both import each other`);
    }
  }
});

test('from the command line, a bad tree fails with its problems on stderr', () => {
  const result = withTree(
    {
      'src/wire/frame.ts': "import { Presence } from '../overlay/presence.js';\nexport const p = Presence;\n",
      'src/overlay/presence.ts': 'export const Presence = 1;\n',
    },
    (root) => spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8', timeout: 60_000 }),
  );
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /src\/wire\/frame\.ts:1 imports src\/overlay\/presence\.ts: upward import/);
  assert.match(result.stderr, /layering problems?;/);
});
