// The command line: every bad flag is refused with exit code 2 and a message naming the flag;
// every command has --help; keygen prints a usable key.
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/index';
import { AgentProcess, killAll, runCli } from '../agent/agent-process';

/** Runs the CLI's main() in this process, capturing what it writes; resolves with the exit code. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('constellation command line', () => {
  // In this process through main(), which returns the exit code the bin exits with (the bin
  // itself is run below).
  it.for([
    [['agent', '--bogus'], "unknown flag '--bogus'"],
    [['agent'], '--name is required'],
    [['agent', '--name'], "'--name' needs a value"],
    [['agent', '--name', 'a', '--bind', 'localhost:7946'], '--bind must be a numeric IP and port'],
    [['agent', '--name', 'a', '--bind', '127.0.0.1:70000'], '--bind must be a numeric IP and port'],
    [['agent', '--name', 'a', '--advertise', '127.0.0.1:0'], '--advertise must be a numeric IP and port'],
    [['agent', '--name', 'a', '--join', 'nohost'], '--join must be host:port'],
    [['agent', '--name', 'a', '--profile', 'fast'], '--profile must be one of lan, wan, local'],
    [['agent', '--name', 'a', '--tag', 'novalue'], '--tag must be key=value'],
    [['agent', '--name', 'a', '--resources', 'cpus=2'], "--resources: unknown field 'cpus'"],
    [['agent', '--name', 'a', '--resources', 'cpuTotal=-1'], '--resources: cpuTotal must be a number >= 0'],
    [['agent', '--name', 'a', '--http', 'everywhere'], '--http must be a numeric IP and port'],
    [['agent', '--name', 'a', '--log-level', 'loud'], '--log-level must be one of'],
    [['agent', '--name', 'a', '--keyfile', '/nonexistent/key'], '--keyfile: cannot read /nonexistent/key'],
    [['agent', '--name', 'a', 'extra'], "unexpected argument 'extra'"],
    [['members', '--http', 'nope'], '--http must be a numeric IP and port'],
    [['members', '--state', 'zombie'], '--state must be one of alive, suspect, dead, left'],
    [['members', '--watch=yes'], "'--watch'"],
    [['update', '--http', '127.0.0.1:1'], 'give --resources and/or --tag'],
    [['update', '--resources', 'ramTotalMb=lots'], '--resources: ramTotalMb must be a number >= 0'],
    [['force-leave'], 'the member NAME is required'],
    [['keys', 'add'], 'the KEY (base64) is required'],
    [['keys', 'add', 'c2hvcnQ='], 'decodes to 5 bytes; keys are 16, 24 or 32 bytes'],
    [['keys', 'spin'], "unknown action 'spin'"],
    [['keygen', '--bits', '128'], "unknown flag '--bits'"],
    [['launch'], "unknown command 'launch'"],
  ] as [string[], string][])('refuses %j with exit code 2, naming the mistake', async ([args, message]) => {
    const { code, stdout, stderr } = await inProcess(args);
    expect(code, stderr).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe('');
  });

  it.for(['agent', 'members', 'update', 'leave', 'force-leave', 'keys', 'keygen'])(
    'prints usage for `%s --help` and exits 0',
    async (command) => {
      const { code, stdout } = await inProcess([command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: constellation ${command}`);
    },
  );

  it('lists the commands with --help and with no command at all (exit 2)', async () => {
    const help = await inProcess(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['agent', 'members', 'leave', 'force-leave', 'keys', 'keygen']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    const bare = await inProcess([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe(help.stdout);
  });

  it('exits with code 2 from the installed bin on a bad flag, the message on stderr', async () => {
    const { code, stdout, stderr } = await runCli(['agent', '--name', 'a', '--bnd', '127.0.0.1:0']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("unknown flag '--bnd'");
    expect(stderr).toContain("Run 'constellation agent --help' for usage.");
  });

  it('keygen prints a different random 32-byte base64 key each time', async () => {
    const [a, b] = await Promise.all([runCli(['keygen']), runCli(['keygen'])]);
    for (const { code, stdout } of [a, b]) {
      expect(code).toBe(0);
      expect(Buffer.from(stdout.trim(), 'base64')).toHaveLength(32);
      expect(stdout.trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    }
    expect(a.stdout).not.toBe(b.stdout);
  });

  it('fails with exit code 1 and says where it looked when no agent answers', async () => {
    // Port 1 on loopback: nothing listens there (and binding it would need root).
    const { code, stderr } = await runCli(['members', '--http', '127.0.0.1:1']);
    expect(code).toBe(1);
    expect(stderr).toContain('no agent answering at http://127.0.0.1:1');
  });

  it('runs encrypted with --keyfile: the agent lists the key by id, never its bytes', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'constellation-key-'));
    const keyfile = path.join(dir, 'key');
    const key = Buffer.alloc(32, 7).toString('base64');
    await writeFile(keyfile, `${key}\n`);
    const agent = await AgentProcess.start('k', { host: '127.0.0.1', extra: ['--keyfile', keyfile] });
    try {
      const { code, stdout } = await runCli(['keys', '--http', agent.http, '--json']);
      expect(code).toBe(0);
      expect(stdout).not.toContain(key);
      const keys = JSON.parse(stdout) as { id: string; primary: boolean }[];
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ primary: true });
    } finally {
      await killAll([agent]);
    }
  });
});
