// Structured logs: one JSON object a line — `time` (ISO 8601), `level`, `msg`, then the fields —
// written to a given stream, below a level threshold nothing. Every Parley server logs this way
// (the login server's Fastify/pino logger is set up to the same shape), so one log pipeline
// reads them all. Writing a line never throws: a field that cannot be serialised is replaced.
import { err, ok, type CodedError, type Result } from '../result.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where lines go: process.stderr, a file stream, or a test's collector. */
export interface LineSink {
  write(line: string): unknown;
}

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  isEnabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line (e.g. `{ component: 'stun' }`). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly stream: LineSink;
  /** Wall time in ms for the `time` field (tests pass a fixed clock). */
  readonly wallTimeMs?: () => number;
  /** Fields on every line. */
  readonly fields?: LogFields;
}

/** Keys the logger owns: a field by one of these names is written as `field.<name>`. */
const RESERVED = new Set(['time', 'level', 'msg']);
/** A message or string field longer than this is cut (a peer's bytes must not make huge lines). */
export const MAX_LOG_STRING_CHARS = 4096;

const rank = (level: LogLevel) => LOG_LEVELS.indexOf(level);

export function parseLogLevel(text: string): Result<LogLevel, CodedError<'unknown_log_level'>> {
  const level = LOG_LEVELS.find((l) => l === text.toLowerCase());
  return level ? ok(level) : err({ code: 'unknown_log_level', message: `log level must be one of ${LOG_LEVELS.join(', ')}, not '${text}'` });
}

function cut(text: string): string {
  return text.length > MAX_LOG_STRING_CHARS ? `${text.slice(0, MAX_LOG_STRING_CHARS)}…` : text;
}

/** JSON.stringify's replacer: errors as their message and code, bigints as text, long strings cut. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return cut(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { type: value.name, message: cut(value.message), ...(code !== undefined ? { code } : {}) };
  }
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return value;
}

/** One log line (with its newline); exported for tests and for the pino setup's shape. */
export function formatLogLine(timeMs: number, level: LogLevel, msg: string, fields: LogFields): string {
  const record: Record<string, unknown> = { time: new Date(timeMs).toISOString(), level, msg: cut(msg) };
  for (const [key, value] of Object.entries(fields)) record[RESERVED.has(key) ? `field.${key}` : key] = value;
  try {
    return `${JSON.stringify(record, replacer)}\n`;
  } catch (error) {
    // A cycle or a throwing toJSON: keep the line, lose the fields.
    return `${JSON.stringify({ time: record.time, level, msg: record.msg, logError: (error as Error).message }, replacer)}\n`;
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const now = options.wallTimeMs ?? Date.now;
  const threshold = rank(options.level);
  const base = options.fields ?? {};
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (rank(level) < threshold) return;
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
export const silentLogger: Logger = createLogger({ level: 'error', stream: { write: () => true } });
