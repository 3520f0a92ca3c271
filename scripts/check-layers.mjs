// The import-graph check (`npm run lint` runs it): every file under src/ imports only from its own
// layer or below, and no files import each other in a cycle (src/, ui/src/, test/, bench/).
// Reads the import lines of the TypeScript sources with TypeScript's own pre-processor (static
// imports and re-exports, `import type`, and dynamic `import()`), so it needs no build.
// Prints each offending import with the rule it breaks, and exits 1 if there is one.
//
//   node scripts/check-layers.mjs           check this repository
//   node scripts/check-layers.mjs DIR       check another tree laid out the same way
//
// The layer table and the allow-list below are the one place the layering is written down
// (docs/architecture.md explains it). A new folder under src/ must be added to the table.
import ts from 'typescript';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The layers, lowest first; a unit's `layer` is an index into this list. */
export const LAYER_NAMES = ['base', 'foundations', 'protocols', 'node roles', 'front ends'];

/**
 * Each unit of src/ (a folder, or a file directly under src/) and ui/src/ (the unit 'ui'), with
 * its layer and the units of its own layer it may import (`peers`). A unit may always import
 * its own files and anything in a lower layer; nothing else.
 */
export const UNITS = {
  // base: the injected environment (clock, random, net; real and virtual) and the Result type.
  'result.ts': { layer: 0, peers: [] },
  env: { layer: 0, peers: ['result.ts'] },

  // foundations: bytes on the wire, keys and secure channels, logs and metrics, small helpers.
  util: { layer: 1, peers: [] }, // token bucket, jittered backoff: pure, no protocol of their own
  wire: { layer: 1, peers: ['util'] }, // framing, the message schema, the rules for names and user text
  crypto: { layer: 1, peers: ['wire', 'util'] }, // the secure channel frames and decodes through wire/
  ops: { layer: 1, peers: ['util'] }, // the JSON-line log and the metrics endpoint, for every role

  // protocols: each speaks one protocol and knows nothing of the roles that run it.
  stun: { layer: 2, peers: [] }, // messages, the server with its abuse bounds, client transactions
  nat: { layer: 2, peers: ['stun'] }, // NAT type detection: RFC 5780's tests, run with STUN
  turn: { layer: 2, peers: ['stun'] }, // TURN is STUN's message format with more methods (RFC 8656)
  ice: { layer: 2, peers: ['stun', 'turn'] }, // ICE checks are STUN bindings; relayed candidates come from TURN
  overlay: { layer: 2, peers: [] },
  rtp: { layer: 2, peers: [] },
  media: { layer: 2, peers: ['rtp'] }, // audio travels in RTP packets
  sip: { layer: 2, peers: [] }, // SIP messages, SDP, digest auth, transactions (the gateway's protocol core)

  // node roles: what a process is. The client core (client/, chat/, groups/, messenger/) is
  // stacked: the messenger carries end-to-end sessions and streams, chat and group chats are
  // uses of it, and client/ composes the device (attachment, account, chat, groups, calls,
  // conferences, promotion).
  supernode: { layer: 3, peers: [] },
  'login-server': { layer: 3, peers: [] },
  messenger: { layer: 3, peers: [] },
  chat: { layer: 3, peers: ['messenger'] },
  groups: { layer: 3, peers: ['messenger'] },
  client: { layer: 3, peers: ['messenger', 'chat', 'groups', 'supernode'] }, // a promoted device runs a supernode

  // front ends: thin, over the node roles. `parley daemon` is a command, so the CLI may start
  // the daemon; the daemon never reaches into the CLI (what both need belongs to the client core).
  cli: { layer: 4, peers: ['daemon', 'sim'] }, // `parley sim` is a command too
  daemon: { layer: 4, peers: [] },
  sim: { layer: 4, peers: [] },
  ui: { layer: 4, peers: [] },
};

/**
 * Imports that break the rules today and are being fixed; each entry names who is on it. An
 * entry is a `from` and a `to`, each a file or a folder (ending in '/'), both relative to the
 * root. An allowed import counts for neither the layer rule nor the cycle check. An entry that
 * no import matches any more is an error too: remove it when its import is gone.
 */
export const ALLOWED = [];

/** Folders the check reads; only src/ and ui/src/ are layered, tests and benchmarks may import anything. */
const ROOTS = ['src', 'ui/src', 'test', 'bench'];
/** Generated code (protobuf) imports only its runtime. */
const SKIP_DIRS = new Set(['node_modules', 'gen']);

function sourceFiles(root, dir) {
  const path = join(root, dir);
  if (!existsSync(path)) return [];
  const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // the same order on every file system
  return entries.flatMap((entry) => {
    const child = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : sourceFiles(root, child);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [child] : [];
  });
}

/** The relative imports of one file that land on a TypeScript source: `{ to, line }`, paths relative to the root with '/'. */
function importsOf(root, file) {
  const text = readFileSync(join(root, file), 'utf8');
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const found = [];
  for (const { fileName, pos } of importedFiles) {
    if (!fileName.startsWith('.')) continue; // a package or node: built-in
    const target = relative(root, resolve(root, dirname(file), fileName)).split(sep).join('/');
    const candidates = [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), target];
    const to = candidates.find((candidate) => /\.tsx?$/.test(candidate) && existsSync(join(root, candidate)));
    if (to) found.push({ to, line: text.slice(0, pos).split('\n').length });
  }
  return found;
}

/** The unit a file belongs to for layering, or null (tests, benchmarks). */
function unitOf(file) {
  if (file.startsWith('ui/src/')) return 'ui';
  const match = /^src\/([^/]+)/.exec(file);
  return match ? match[1] : null;
}

const covers = (pattern, path) => (pattern.endsWith('/') ? path.startsWith(pattern) : path === pattern);

/**
 * Checks the tree at `root`; returns the problems, each one line of text (empty: all is well).
 * `units` and `allowed` default to the tables above (tests pass their own).
 */
export function checkImports(root, { units = UNITS, allowed = ALLOWED } = {}) {
  const problems = [];
  const used = new Set();
  const edges = new Map(); // file → [{ to, line }] that count for cycles
  const isAllowed = (from, to) => {
    const index = allowed.findIndex((entry) => covers(entry.from, from) && covers(entry.to, to));
    if (index >= 0) used.add(index);
    return index >= 0;
  };

  for (const file of ROOTS.flatMap((dir) => sourceFiles(root, dir))) {
    const unit = unitOf(file);
    const rule = unit === null ? null : units[unit];
    if (unit !== null && !rule) {
      problems.push(`${file}: ${unit} is not in the layer table (scripts/check-layers.mjs): give it a layer`);
    }
    const counted = [];
    for (const { to, line } of importsOf(root, file)) {
      if (isAllowed(file, to)) continue;
      counted.push({ to, line });
      if (!rule) continue;
      const where = `${file}:${line} imports ${to}`;
      const target = unitOf(to);
      const targetRule = target === null ? null : units[target];
      if (target === null) {
        problems.push(`${where}: layered code may not import tests or benchmarks`);
      } else if (target === unit || !targetRule) {
        continue; // its own files, or a unit reported above as missing from the table
      } else if (targetRule.layer > rule.layer) {
        problems.push(`${where}: upward import (${unit} is in layer "${LAYER_NAMES[rule.layer]}", ${target} in the higher layer "${LAYER_NAMES[targetRule.layer]}")`);
      } else if (targetRule.layer === rule.layer && !rule.peers.includes(target)) {
        const peers = rule.peers.length ? `only ${rule.peers.join(', ')}` : 'none';
        problems.push(`${where}: ${unit} may not import ${target} (same layer "${LAYER_NAMES[rule.layer]}"; of its layer ${unit} may import ${peers})`);
      }
    }
    edges.set(file, counted);
  }

  for (const { size, cycle } of findCycles(edges)) {
    const steps = cycle.map((file, i) => {
      const next = cycle[(i + 1) % cycle.length];
      const line = edges.get(file).find((edge) => edge.to === next).line;
      return `  ${file}:${line} imports ${next}`;
    });
    const among = size === cycle.length ? '' : ` (${size} files are tangled; the shortest circle through the first of them)`;
    problems.push(`import cycle: files may not import each other in a circle${among}:\n${steps.join('\n')}`);
  }

  allowed.forEach((entry, index) => {
    if (!used.has(index)) problems.push(`allow-list entry ${entry.from} → ${entry.to} (${entry.why}) matches no import any more: remove it from scripts/check-layers.mjs`);
  });
  return problems;
}

/**
 * One cycle per strongly connected component of more than one file (or a file that imports
 * itself), found with Tarjan's algorithm (iterative, so deep import chains cannot overflow
 * the stack): the component's size, and a shortest cycle from its first file in sorted order.
 */
function findCycles(edges) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  let counter = 0;
  for (const start of [...edges.keys()].sort()) {
    if (index.has(start)) continue;
    const work = [{ file: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const out = edges.get(frame.file) ?? [];
      if (frame.next < out.length) {
        const to = out[frame.next++].to;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ file: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.file, Math.min(low.get(frame.file), index.get(to)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].file;
        low.set(parent, Math.min(low.get(parent), low.get(frame.file)));
      }
      if (low.get(frame.file) === index.get(frame.file)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.file);
        const selfImport = (edges.get(frame.file) ?? []).some((edge) => edge.to === frame.file);
        if (component.length > 1 || selfImport) components.push(new Set(component));
      }
    }
  }
  return components.map((members) => ({ size: members.size, cycle: cycleWithin(members, edges) }));
}

/** A shortest cycle through the first member of a strongly connected component (breadth-first). */
function cycleWithin(members, edges) {
  const first = [...members].sort()[0];
  const cameFrom = new Map();
  const queue = [first];
  for (let i = 0; i < queue.length; i++) {
    for (const { to } of edges.get(queue[i]) ?? []) {
      if (!members.has(to)) continue;
      if (to === first) {
        const path = [queue[i]];
        while (path[0] !== first) path.unshift(cameFrom.get(path[0]));
        return path;
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, queue[i]);
        queue.push(to);
      }
    }
  }
  return [first];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const problems = checkImports(root);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`\n${problems.length} layering problem${problems.length === 1 ? '' : 's'}; the layers and the allow-list are in scripts/check-layers.mjs, the rule in docs/architecture.md.`);
    process.exit(1);
  }
}
