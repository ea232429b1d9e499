// The logger the agent writes through: any pino-style logger (pino, bunyan-ish adapters, or the
// JSON-lines one here). Structured fields come first, the message second, as pino takes them,
// so a pino instance can be passed as it is. The contract itself lives with the library.
import type { Logger, LogLevel } from '../logger.js';

export { type Logger, type LogLevel, silentLogger } from '../logger.js';

const RANK: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Parses a level name; undefined when it is not one. */
export function parseLogLevel(value: string): LogLevel | 'silent' | undefined {
  return Object.hasOwn(RANK, value) ? (value as LogLevel | 'silent') : undefined;
}

/**
 * Writes one JSON object per line (`level`, `time` in ms, `msg`, then the fields) for every
 * record at or above `level`. Errors among the fields are written as their message and code,
 * never as `{}`.
 */
export function jsonLinesLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
  level: LogLevel | 'silent' = 'info',
  base: Record<string, unknown> = {},
): Logger {
  const threshold = RANK[level];
  const make =
    (name: LogLevel) =>
    (fields: Record<string, unknown>, message?: string): void => {
      if (RANK[name] < threshold) return;
      const record: Record<string, unknown> = { level: name, time: Date.now(), ...base };
      if (message !== undefined) record.msg = message;
      for (const [key, value] of Object.entries(fields)) record[key] = plain(value);
      write(`${JSON.stringify(record)}\n`);
    };
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as Error & { code?: unknown }).code;
    return code === undefined ? { message: value.message } : { message: value.message, code };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
