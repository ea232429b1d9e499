// The small commands that talk to a running agent (leave, force-leave, update, keys) and
// keygen, which talks to no one.
import { checkKey, generateKey } from '../agent/keys.js';
import { hostPortFlag, parse, resourcesFlag, tagsFlag, UsageError } from './args.js';
import { call } from './client.js';
import { DEFAULT_HTTP, FORCE_LEAVE_HELP, KEYGEN_HELP, KEYS_HELP, LEAVE_HELP, UPDATE_HELP } from './help.js';

const help = { type: 'boolean', short: 'h' } as const;
const http = { type: 'string' } as const;

export function runKeygen(args: readonly string[]): number {
  const { values } = parse('keygen', args, { help });
  if (values.help) {
    process.stdout.write(KEYGEN_HELP);
    return 0;
  }
  process.stdout.write(`${generateKey()}\n`);
  return 0;
}

export async function runLeave(args: readonly string[]): Promise<number> {
  const { values } = parse('leave', args, { http, help });
  if (values.help) {
    process.stdout.write(LEAVE_HELP);
    return 0;
  }
  const address = hostPortFlag('leave', 'http', values.http ?? DEFAULT_HTTP, false);
  const agent = (await call(address, 'GET', '/v1/agent')) as { name: string };
  await call(address, 'POST', '/v1/leave', {});
  process.stdout.write(`${agent.name} left the cluster\n`);
  return 0;
}

export async function runForceLeave(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse('force-leave', args, { http, help }, { positionals: 1 });
  if (values.help) {
    process.stdout.write(FORCE_LEAVE_HELP);
    return 0;
  }
  const name = positionals[0];
  if (!name) throw new UsageError('force-leave: the member NAME is required');
  const address = hostPortFlag('force-leave', 'http', values.http ?? DEFAULT_HTTP, false);
  await call(address, 'POST', '/v1/force-leave', { name });
  process.stdout.write(`${name} is marked as left\n`);
  return 0;
}

export async function runUpdate(args: readonly string[]): Promise<number> {
  const { values } = parse('update', args, {
    resources: { type: 'string', multiple: true },
    tag: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    http,
    help,
  });
  if (values.help) {
    process.stdout.write(UPDATE_HELP);
    return 0;
  }
  const body: Record<string, unknown> = {};
  if (values.resources) body.resources = resourcesFlag('update', values.resources);
  if (values.tag) body.tags = tagsFlag('update', values.tag);
  if (Object.keys(body).length === 0) throw new UsageError('update: give --resources and/or --tag');
  const address = hostPortFlag('update', 'http', values.http ?? DEFAULT_HTTP, false);
  const { member } = (await call(address, 'POST', '/v1/update', body)) as {
    member: { name: string; incarnation: number };
  };
  if (values.json) process.stdout.write(`${JSON.stringify(member)}\n`);
  else process.stdout.write(`${member.name} updated (incarnation ${member.incarnation})\n`);
  return 0;
}

export async function runKeys(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse('keys', args, { http, json: { type: 'boolean' }, help }, { positionals: 2 });
  if (values.help) {
    process.stdout.write(KEYS_HELP);
    return 0;
  }
  const action = positionals[0] ?? 'list';
  const address = hostPortFlag('keys', 'http', values.http ?? DEFAULT_HTTP, false);
  let result: unknown;
  if (action === 'list') {
    if (positionals.length > 1) throw new UsageError(`keys: unexpected argument '${positionals[1]}'`);
    result = await call(address, 'GET', '/v1/keys');
  } else if (action === 'add' || action === 'use' || action === 'remove') {
    const key = positionals[1];
    if (!key) throw new UsageError(`keys ${action}: the KEY (base64) is required`);
    const problem = checkKey(key);
    if (problem) throw new UsageError(`keys ${action}: the key is ${problem}`);
    result = await call(address, 'POST', '/v1/keys', { action, key });
  } else {
    throw new UsageError(`keys: unknown action '${action}' (list, add, use, remove)`);
  }
  const { keys } = result as { keys: unknown };
  if (values.json) process.stdout.write(`${JSON.stringify(keys)}\n`);
  else if (Array.isArray(keys))
    for (const k of keys) process.stdout.write(`${typeof k === 'string' ? k : JSON.stringify(k)}\n`);
  else process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
  return 0;
}
