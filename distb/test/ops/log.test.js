// The structured logger: JSON lines with time, level, msg and fields, the level threshold, and
// fields that could break a line (cycles, errors, bigints, bytes, huge strings).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, formatLogLine, LOG_LEVELS, MAX_LOG_STRING_CHARS, parseLogLevel } from '../../src/ops/log.js';
const AT = Date.UTC(2026, 11, 3, 10, 0, 0, 250);
function collector() {
    const lines = [];
    return { lines, stream: { write: (line) => lines.push(line) } };
}
/** Every write is one whole line of JSON. */
function records(lines) {
    return lines.map((line) => {
        assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), `one line: ${JSON.stringify(line)}`);
        return JSON.parse(line);
    });
}
test('each level writes at and above its threshold only', () => {
    for (const threshold of LOG_LEVELS) {
        const { lines, stream } = collector();
        const log = createLogger({ level: threshold, stream, wallTimeMs: () => AT });
        for (const level of LOG_LEVELS)
            log[level](`a ${level} line`, { n: LOG_LEVELS.indexOf(level) });
        const written = records(lines).map((r) => r.level);
        assert.deepEqual(written, LOG_LEVELS.slice(LOG_LEVELS.indexOf(threshold)), `threshold ${threshold}`);
        for (const level of LOG_LEVELS)
            assert.equal(log.isEnabled(level), LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold));
    }
});
test('a line has time, level and msg first, then the fields; child fields are on every line', () => {
    const { lines, stream } = collector();
    const log = createLogger({ level: 'debug', stream, wallTimeMs: () => AT, fields: { service: 'supernode' } });
    log.info('client attached', { user: 'alice', port: 33033 });
    log.child({ component: 'stun' }).warn('refused', { reason: 'rate_limited', level: 'spoofed', msg: 'x' });
    const [first, second] = records(lines);
    assert.deepEqual(Object.keys(first).slice(0, 3), ['time', 'level', 'msg']);
    assert.deepEqual(first, { time: '2026-12-03T10:00:00.250Z', level: 'info', msg: 'client attached', service: 'supernode', user: 'alice', port: 33033 });
    // Fields named like the logger's own keys do not replace them.
    assert.deepEqual(second, { time: '2026-12-03T10:00:00.250Z', level: 'warn', msg: 'refused', service: 'supernode', component: 'stun', reason: 'rate_limited', 'field.level': 'spoofed', 'field.msg': 'x' });
});
test('errors, bigints, bytes, long strings and cycles still make one valid line', () => {
    const error = Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' });
    const line = JSON.parse(formatLogLine(AT, 'error', 'dial failed', { error, id: 12345678901234567890n, key: new Uint8Array(32), blob: 'y'.repeat(10_000) }));
    assert.deepEqual(line.error, { type: 'Error', message: 'connect refused', code: 'ECONNREFUSED' });
    assert.equal(line.id, '12345678901234567890');
    assert.equal(line.key, '<32 bytes>');
    assert.equal(line.blob.length, MAX_LOG_STRING_CHARS + 1);
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    const kept = JSON.parse(formatLogLine(AT, 'warn', 'x'.repeat(MAX_LOG_STRING_CHARS + 50), { cyclic }));
    assert.equal(kept.level, 'warn');
    assert.equal(kept.msg.length, MAX_LOG_STRING_CHARS + 1);
    assert.match(kept.logError, /circular/i);
    assert.equal(kept.cyclic, undefined);
});
test('log levels are parsed with a typed error for anything else', () => {
    assert.deepEqual(parseLogLevel('WARN'), { ok: true, value: 'warn' });
    const bad = parseLogLevel('verbose');
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.error.code, 'unknown_log_level');
    assert.match(!bad.ok ? bad.error.message : '', /debug, info, warn, error/);
});
//# sourceMappingURL=log.test.js.map