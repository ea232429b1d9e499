// Flag parsing for the `constellation` commands: node:util parseArgs, with every mistake turned
// into a UsageError that names the flag (exit code 2).

import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

/** A mistake on the command line: printed with the command's usage hint, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** A failure at run time (agent unreachable, bind refused ...): exit code 1. */
export class CommandError extends Error {
  readonly exitCode = 1;
}

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };

/** What {@link parse} gives: each flag's value (string, string[] or boolean) and the bare words. */
export interface Parsed<T extends Record<string, OptionSpec>> {
  values: {
    [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K]['multiple'] extends true ? string[] : string;
  };
  positionals: string[];
}

/** Parses `args` against `options`; unknown flags, missing values and stray words are UsageErrors. */
export function parse<T extends Record<string, OptionSpec>>(
  command: string,
  args: readonly string[],
  options: T,
  { positionals = 0 }: { positionals?: number } = {},
): Parsed<T> {
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true }) as unknown as Parsed<T>;
  } catch (error) {
    throw new UsageError(`${command}: ${explain(error as Error & { code?: string })}`);
  }
  if (parsed.positionals.length > positionals) {
    const extra = parsed.positionals[positionals];
    throw new UsageError(`${command}: unexpected argument '${extra}'`);
  }
  return parsed;
}

function explain(error: Error & { code?: string }): string {
  // parseArgs messages name the flag already; make them read as one sentence of ours.
  const message = error.message.replace(/\.$/, '');
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
      return `unknown flag '${flag}' (see --help)`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
      return flag ? `flag '${flag.replace(/ .*/, '')}' needs a value` : message;
    }
    default:
      return message;
  }
}

/** A numeric `host:port` (port 0 allowed where `allowZero`), or a UsageError naming `flag`. */
export function hostPortFlag(command: string, flag: string, value: string, allowZero = true): string {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || isIP(match[1] as string) === 0 || !(port >= (allowZero ? 0 : 1) && port <= 65535)) {
    throw new UsageError(
      `${command}: --${flag} must be a numeric IP and port, like 127.0.0.1:7946 or [::1]:7946 (got '${value}')`,
    );
  }
  return value;
}

/** Seeds: `host:port`, repeated or comma-separated; host names allowed. */
export function seedsFlag(command: string, values: readonly string[]): string[] {
  const seeds = values.flatMap((v) => v.split(',')).map((s) => s.trim());
  for (const seed of seeds) {
    const match = /^\[([^\]]+)\]:(\d+)$/.exec(seed) ?? /^([^:]+):(\d+)$/.exec(seed);
    const port = match ? Number(match[2]) : Number.NaN;
    if (!match || !(port >= 1 && port <= 65535))
      throw new UsageError(`${command}: --join must be host:port, like 127.0.0.1:7946 (got '${seed}')`);
  }
  return seeds;
}

/** `--tag k=v`, repeated. */
export function tagsFlag(command: string, values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`${command}: --tag must be key=value (got '${value}')`);
    tags[value.slice(0, at)] = value.slice(at + 1);
  }
  return tags;
}

export const RESOURCE_FIELDS = [
  'maxInstances',
  'currentInstances',
  'cpuTotal',
  'cpuAvailable',
  'ramTotalMb',
  'ramAvailableMb',
] as const;

/** `--resources maxInstances=4,cpuTotal=2,...`, repeatable. */
export function resourcesFlag(command: string, values: readonly string[]): Record<string, number> {
  const resources: Record<string, number> = {};
  for (const part of values.flatMap((v) => v.split(','))) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    const text = part.slice(at + 1).trim();
    if (at <= 0 || text === '')
      throw new UsageError(`${command}: --resources must be key=value pairs separated by commas (got '${part}')`);
    if (!(RESOURCE_FIELDS as readonly string[]).includes(key))
      throw new UsageError(`${command}: --resources: unknown field '${key}' (known: ${RESOURCE_FIELDS.join(', ')})`);
    const number = Number(text);
    if (!Number.isFinite(number) || number < 0)
      throw new UsageError(`${command}: --resources: ${key} must be a number >= 0 (got '${text}')`);
    resources[key] = number;
  }
  return resources;
}

/** `--name value` must be one of `choices`. */
export function choiceFlag<T extends string>(command: string, flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value))
    throw new UsageError(`${command}: --${flag} must be one of ${choices.join(', ')} (got '${value}')`);
  return value as T;
}
