// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every
// line must be a HELP, a TYPE or a sample of the family the last TYPE declared, with valid
// names, label syntax and escapes, and a number; anything else throws with the line. Then
// `value(name, labels)` reads one series.
import http from 'node:http';
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes `Nan`).
const NUMBER = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf|nan)$/i;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
function parseNumber(text, line) {
    if (!NUMBER.test(text))
        throw new Error(`not a number '${text}' in: ${line}`);
    if (/inf$/i.test(text))
        return text.startsWith('-') ? -Infinity : Infinity;
    return /nan/i.test(text) ? NaN : Number(text);
}
/** Reads `{a="x",b="y"}` from position `at`; returns the labels and the position after `}`. */
function parseLabels(line, at) {
    const labels = {};
    let i = at + 1;
    for (;;) {
        if (line[i] === '}')
            return { labels, end: i + 1 };
        const eq = line.indexOf('=', i);
        if (eq < 0)
            throw new Error(`label without '=' in: ${line}`);
        const name = line.slice(i, eq);
        if (!LABEL_NAME.test(name))
            throw new Error(`bad label name '${name}' in: ${line}`);
        if (name in labels)
            throw new Error(`label '${name}' twice in: ${line}`);
        if (line[eq + 1] !== '"')
            throw new Error(`label value not quoted in: ${line}`);
        let value = '';
        let j = eq + 2;
        for (;;) {
            const c = line[j];
            if (c === undefined)
                throw new Error(`unterminated label value in: ${line}`);
            if (c === '"')
                break;
            if (c === '\\') {
                const next = line[j + 1];
                if (next === '\\' || next === '"')
                    value += next;
                else if (next === 'n')
                    value += '\n';
                else
                    throw new Error(`bad escape in label value in: ${line}`);
                j += 2;
            }
            else {
                value += c;
                j++;
            }
        }
        labels[name] = value;
        i = j + 1;
        if (line[i] === ',')
            i++;
        else if (line[i] !== '}')
            throw new Error(`expected ',' or '}' after a label in: ${line}`);
    }
}
/** Whether sample `name` belongs to the family `family` of type `type` (and has the labels it needs). */
function belongs(name, labels, family, type) {
    if (type === 'histogram')
        return (name === `${family}_bucket` && 'le' in labels) || name === `${family}_sum` || name === `${family}_count`;
    if (type === 'summary')
        return (name === family && 'quantile' in labels) || name === `${family}_sum` || name === `${family}_count`;
    return name === family;
}
const seriesKey = (name, labels) => `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
export function parseExposition(text) {
    if (text.length > 0 && !text.endsWith('\n'))
        throw new Error('the exposition does not end with a newline');
    const samples = [];
    const types = new Map();
    const helps = new Set();
    const series = new Map();
    let family = null;
    for (const line of text.split('\n').slice(0, -1)) {
        if (line === '')
            continue;
        if (line.startsWith('#')) {
            const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
            if (!match) {
                if (/^# (HELP|TYPE)\b/.test(line))
                    throw new Error(`malformed comment: ${line}`);
                continue; // other comments are allowed
            }
            const [, kind, name, rest] = match;
            if (!METRIC_NAME.test(name))
                throw new Error(`bad metric name '${name}' in: ${line}`);
            if (kind === 'HELP') {
                if (helps.has(name))
                    throw new Error(`HELP twice for ${name}`);
                helps.add(name);
            }
            else {
                if (!TYPES.has(rest))
                    throw new Error(`unknown type in: ${line}`);
                if (types.has(name))
                    throw new Error(`TYPE twice for ${name}`);
                types.set(name, rest);
                family = name;
            }
            continue;
        }
        const nameEnd = line.search(/[{ ]/);
        if (nameEnd <= 0)
            throw new Error(`not a sample: ${line}`);
        const name = line.slice(0, nameEnd);
        if (!METRIC_NAME.test(name))
            throw new Error(`bad metric name '${name}' in: ${line}`);
        let labels = {};
        let rest = line.slice(nameEnd);
        if (rest.startsWith('{')) {
            const parsed = parseLabels(line, nameEnd);
            labels = parsed.labels;
            rest = line.slice(parsed.end);
        }
        const fields = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
        if (!fields)
            throw new Error(`bad value part in: ${line}`);
        if (family === null || !belongs(name, labels, family, types.get(family)))
            throw new Error(`sample ${name} outside its family's block (after TYPE ${family ?? 'none'}): ${line}`);
        const key = seriesKey(name, labels);
        if (series.has(key))
            throw new Error(`series twice: ${line}`);
        const value = parseNumber(fields[1], line);
        series.set(key, value);
        samples.push({ name, labels, value });
    }
    return { samples, types, value: (name, labels = {}) => series.get(seriesKey(name, labels)) };
}
/** One plain HTTP request on a fresh connection (no pooled sockets left behind). */
export function httpRequest(port, path, options = {}) {
    return new Promise((resolve, reject) => {
        const request = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, headers: options.headers ?? {} }, (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: response.headers }));
            response.on('error', reject);
        });
        request.on('error', reject);
        request.end();
    });
}
/** GET /metrics, parsed strictly. */
export async function scrape(port) {
    const response = await httpRequest(port, '/metrics');
    if (response.status !== 200)
        throw new Error(`/metrics answered ${response.status}`);
    if (!String(response.headers['content-type']).startsWith('text/plain; version=0.0.4'))
        throw new Error(`content-type ${response.headers['content-type']}`);
    return parseExposition(response.body);
}
//# sourceMappingURL=prometheus.js.map