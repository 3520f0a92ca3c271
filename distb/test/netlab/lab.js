// Running Parley in the network lab (lab.sh): the lab up and down, commands in its namespaces,
// and the placements of the connectivity matrix mapped to the lab's client namespaces.
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PARLEY_MAIN } from '../support/processes.js';
const LAB_SCRIPT = fileURLToPath(new URL('../../../test/netlab/lab.sh', import.meta.url));
export const PREFIX = 'pl';
/** The login server's host. */
export const SERVER_HOST = '203.0.113.10';
export const SUPERNODE_PORT = 33033;
/** The operator's supernodes, each on a host of its own with a second address for STUN. */
export const SUPERNODE_HOSTS = [
    { ns: 'sn1', host: '203.0.113.12', alternate: '203.0.113.13' },
    { ns: 'sn2', host: '203.0.113.14', alternate: '203.0.113.15' },
    { ns: 'sn3', host: '203.0.113.16', alternate: '203.0.113.17' },
];
/**
 * Where each placement's devices run: the offering one and the answering one, each on its own
 * machine behind its own router of the kind (one LAN: two machines behind one router).
 */
export const LAB_CLIENTS = {
    public: { offerer: 'pub1', answerer: 'pub2' },
    'full-cone': { offerer: 'cfull1', answerer: 'cfull2' },
    'address-restricted': { offerer: 'caddr1', answerer: 'caddr2' },
    'port-restricted': { offerer: 'cport1', answerer: 'cport2' },
    symmetric: { offerer: 'csym1', answerer: 'csym2' },
    'udp-blocked': { offerer: 'cudp1', answerer: 'cudp2' },
    'web-only': { offerer: 'cweb1', answerer: 'cweb2' },
    'double-nat': { offerer: 'cdbl1', answerer: 'cdbl2' },
    'same-lan': { offerer: 'clan2', answerer: 'clan1' },
};
export const netns = (name) => `${PREFIX}-${name}`;
function lab(action) {
    return new Promise((resolve, reject) => {
        execFile('bash', [LAB_SCRIPT, action], { env: { ...process.env, PL: PREFIX }, timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(`lab.sh ${action}: ${stderr || error.message}`)) : resolve(stderr)));
    });
}
export const labUp = () => lab('up');
export const labDown = () => lab('down');
/** Runs a command in a lab namespace; resolves with its exit code and all it printed. */
export function inNamespace(name, command, input = '', timeoutMs = 30_000) {
    return new Promise((resolve) => {
        const child = spawn('ip', ['netns', 'exec', netns(name), ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c) => (out += c.toString()));
        child.stderr.on('data', (c) => (out += c.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('close', (code) => {
            clearTimeout(timer);
            resolve({ code, out });
        });
        child.stdin.end(input);
    });
}
/** `parley <args>` in a lab namespace. */
export function parleyIn(name, args, input = '', timeoutMs = 30_000) {
    return inNamespace(name, [process.execPath, PARLEY_MAIN, ...args], input, timeoutMs);
}
//# sourceMappingURL=lab.js.map