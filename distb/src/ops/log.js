// Structured logs: one JSON object a line — `time` (ISO 8601), `level`, `msg`, then the fields —
// written to a given stream, below a level threshold nothing. Every Parley server logs this way
// (the login server's Fastify/pino logger is set up to the same shape), so one log pipeline
// reads them all. Writing a line never throws: a field that cannot be serialised is replaced.
import { err, ok } from '../result.js';
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];
/** Keys the logger owns: a field by one of these names is written as `field.<name>`. */
const RESERVED = new Set(['time', 'level', 'msg']);
/** A message or string field longer than this is cut (a peer's bytes must not make huge lines). */
export const MAX_LOG_STRING_CHARS = 4096;
const rank = (level) => LOG_LEVELS.indexOf(level);
export function parseLogLevel(text) {
    const level = LOG_LEVELS.find((l) => l === text.toLowerCase());
    return level ? ok(level) : err({ code: 'unknown_log_level', message: `log level must be one of ${LOG_LEVELS.join(', ')}, not '${text}'` });
}
function cut(text) {
    return text.length > MAX_LOG_STRING_CHARS ? `${text.slice(0, MAX_LOG_STRING_CHARS)}…` : text;
}
/** JSON.stringify's replacer: errors as their message and code, bigints as text, long strings cut. */
function replacer(_key, value) {
    if (typeof value === 'bigint')
        return value.toString();
    if (typeof value === 'string')
        return cut(value);
    if (value instanceof Error) {
        const code = value.code;
        return { type: value.name, message: cut(value.message), ...(code !== undefined ? { code } : {}) };
    }
    if (value instanceof Uint8Array)
        return `<${value.byteLength} bytes>`;
    return value;
}
/** One log line (with its newline); exported for tests and for the pino setup's shape. */
export function formatLogLine(timeMs, level, msg, fields) {
    const record = { time: new Date(timeMs).toISOString(), level, msg: cut(msg) };
    for (const [key, value] of Object.entries(fields))
        record[RESERVED.has(key) ? `field.${key}` : key] = value;
    try {
        return `${JSON.stringify(record, replacer)}\n`;
    }
    catch (error) {
        // A cycle or a throwing toJSON: keep the line, lose the fields.
        return `${JSON.stringify({ time: record.time, level, msg: record.msg, logError: error.message }, replacer)}\n`;
    }
}
export function createLogger(options) {
    const now = options.wallTimeMs ?? Date.now;
    const threshold = rank(options.level);
    const base = options.fields ?? {};
    const write = (level, msg, fields) => {
        if (rank(level) < threshold)
            return;
        options.stream.write(formatLogLine(now(), level, msg, fields ? { ...base, ...fields } : base));
    };
    return {
        level: options.level,
        debug: (msg, fields) => write('debug', msg, fields),
        info: (msg, fields) => write('info', msg, fields),
        warn: (msg, fields) => write('warn', msg, fields),
        error: (msg, fields) => write('error', msg, fields),
        isEnabled: (level) => rank(level) >= threshold,
        child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
    };
}
/** A logger that writes nothing (the default where none is given). */
export const silentLogger = createLogger({ level: 'error', stream: { write: () => true } });
//# sourceMappingURL=log.js.map