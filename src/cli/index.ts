#!/usr/bin/env node
// `constellation`: the operator's command. Exit codes: 0 done, 1 failed at run time, 2 bad usage.
import { CommandError, UsageError } from './args.js';
import { AGENT_HELP, FORCE_LEAVE_HELP, KEYGEN_HELP, KEYS_HELP, LEAVE_HELP, MEMBERS_HELP, UPDATE_HELP } from './help.js';

const HELP = `Usage: constellation COMMAND [options]

Cluster membership and failure detection (SWIM with Lifeguard).

Commands:
  agent         run a member, printing membership changes as they happen
  members       the member table of a running agent (--watch to keep it live)
  update        announce new resources or tags for the agent's member
  leave         make the agent leave the cluster and exit
  force-leave   mark a failed member as left
  keys          list or rotate the agent's encryption keys
  keygen        print a new random encryption key

Run \`constellation COMMAND --help\` for a command's options.
`;

// Each command's module loads only when it runs: `--help` and the short commands start fast.
const COMMANDS: Record<string, { run: (args: readonly string[]) => number | Promise<number>; help: string }> = {
  agent: { run: async (args) => (await import('./agent-command.js')).runAgent(args), help: AGENT_HELP },
  members: { run: async (args) => (await import('./members-command.js')).runMembers(args), help: MEMBERS_HELP },
  update: { run: async (args) => (await import('./admin-commands.js')).runUpdate(args), help: UPDATE_HELP },
  leave: { run: async (args) => (await import('./admin-commands.js')).runLeave(args), help: LEAVE_HELP },
  'force-leave': {
    run: async (args) => (await import('./admin-commands.js')).runForceLeave(args),
    help: FORCE_LEAVE_HELP,
  },
  keys: { run: async (args) => (await import('./admin-commands.js')).runKeys(args), help: KEYS_HELP },
  keygen: { run: async (args) => (await import('./admin-commands.js')).runKeygen(args), help: KEYGEN_HELP },
};

/** Runs the command line `args` (without node and the script); resolves with the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : COMMANDS[topic];
    process.stdout.write(command ? command.help : HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    // package.json sits outside rootDir (src/), so it is read at run time.
    const { version } = require('../../package.json') as { version: string };
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`constellation: ${error.message}\n`);
      process.stderr.write(`Run 'constellation ${command ? `${name} ` : ''}--help' for usage.\n`);
      return error.exitCode;
    }
    if (error instanceof CommandError) {
      process.stderr.write(`constellation: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

// Run when executed (the bin), not when imported (tests call main()).
if (typeof require !== 'undefined' && require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`constellation: unexpected error: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
