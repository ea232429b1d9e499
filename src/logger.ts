// The logger contract of the library: any pino-style logger. Structured fields come first, the
// message second, as pino takes them, so a pino instance can be passed as it is.
import { InvalidConfigError } from './errors.js';

/** Log levels, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A pino-style logger: each level takes an object of structured fields, then a message. */
export interface Logger {
  /** Detail for debugging: packets refused, each join attempt. */
  debug(fields: Record<string, unknown>, message?: string): void;
  /** The normal course of things: start, join, members joining and leaving, shutdown. */
  info(fields: Record<string, unknown>, message?: string): void;
  /** Worth a look: members suspected or declared dead, name conflicts, a failed join. */
  warn(fields: Record<string, unknown>, message?: string): void;
  /** Something failed. */
  error(fields: Record<string, unknown>, message?: string): void;
}

/** A logger that drops everything: the library's default. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Checks that `value` has the four level methods; throws an InvalidConfigError naming `field`. */
export function checkLogger(value: unknown, field: string): Logger {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidConfigError(field, 'a pino-style logger (an object with debug, info, warn and error methods)');
  }
  for (const level of LEVELS) {
    if (typeof (value as Record<string, unknown>)[level] !== 'function') {
      throw new InvalidConfigError(field, `a pino-style logger (${level} is not a function)`);
    }
  }
  return value as Logger;
}
