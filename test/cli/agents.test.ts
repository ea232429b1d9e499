// Three `constellation agent` processes, driven through the CLI as an operator would: the member
// table (text and JSON), a resource update, the live watch, force-leave of a killed member, and
// a graceful leave.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, cliPath, killAll, runCli, waitFor } from '../agent/agent-process';

interface MemberJson {
  name: string;
  state: string;
  incarnation: number;
  address: string;
  port: number;
  resources: Record<string, number>;
  tags: Record<string, string>;
}

describe('agents in child processes, through the CLI', () => {
  const agents: AgentProcess[] = [];
  const a = () => agents[0] as AgentProcess;
  const b = () => agents[1] as AgentProcess;
  const c = () => agents[2] as AgentProcess;

  beforeAll(async () => {
    const seed = await AgentProcess.start('cli-a', { host: '127.0.0.61', extra: ['--tag', 'role=seed'] });
    agents.push(seed);
    agents.push(
      ...(await Promise.all([
        AgentProcess.start('cli-b', {
          host: '127.0.0.62',
          join: [seed.address],
          extra: ['--resources', 'maxInstances=4,cpuTotal=2,cpuAvailable=2'],
        }),
        AgentProcess.start('cli-c', { host: '127.0.0.63', join: [seed.address] }),
      ])),
    );
    const names = agents.map((x) => x.name);
    await waitFor('every agent reports the other two alive', () =>
      agents.every((x) => names.every((n) => n === x.name || x.view.get(n) === 'alive')),
    );
  });
  afterAll(() => killAll(agents));

  it('lists all three members alive with `members --json`, as each agent sees it', async () => {
    for (const agent of agents) {
      const { code, stdout, stderr } = await runCli(['members', '--http', agent.http, '--json']);
      expect(code, stderr).toBe(0);
      const members = JSON.parse(stdout) as MemberJson[];
      expect(members.map((m) => m.name).sort()).toEqual(['cli-a', 'cli-b', 'cli-c']);
      expect(members.every((m) => m.state === 'alive')).toBe(true);
      expect(members.find((m) => m.name === 'cli-a')?.tags).toEqual({ role: 'seed' });
      expect(members.find((m) => m.name === 'cli-b')?.resources.maxInstances).toBe(4);
      const self = members.find((m) => m.name === agent.name) as MemberJson;
      expect(`${self.address}:${self.port}`).toBe(agent.address);
    }
  });

  it('prints the table as text, one row per member, marking the member asked', async () => {
    const { code, stdout } = await runCli(['members', '--http', b().http]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ADDRESS\s+STATE\s+INC\s+INSTANCES/);
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.startsWith('cli-b *'))).toMatch(/alive\s+0\s+0\/4/);
    const filtered = await runCli(['members', '--http', b().http, '--state', 'dead']);
    expect(filtered.stdout.trim().split('\n')).toHaveLength(1); // the header only
  });

  it('announces an update through `constellation update` and every other agent reports it', async () => {
    const { code, stdout } = await runCli([
      'update',
      '--http',
      b().http,
      '--resources',
      'currentInstances=3,cpuAvailable=0.5',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^cli-b updated \(incarnation [1-9]\d*\)/);
    for (const agent of [a(), c()]) {
      await waitFor(`${agent.name} reports cli-b's update`, () =>
        agent.saw('update', 'cli-b').some((l) => l.member?.resources.currentInstances === 3),
      );
      const update = agent.saw('update', 'cli-b').at(-1);
      expect(update?.member?.resources.cpuAvailable).toBe(0.5);
      expect(update?.member?.state).toBe('alive');
    }
  });

  it('streams the table and then each change as JSON lines with `members --watch --json`', async () => {
    const watcher = spawn(process.execPath, [cliPath, 'members', '--http', a().http, '--watch', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: { type: string; members?: MemberJson[]; member?: MemberJson }[] = [];
    let buffer = '';
    watcher.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        lines.push(JSON.parse(buffer.slice(0, end)));
        buffer = buffer.slice(end + 1);
      }
    });
    const exited = new Promise<number | null>((resolve) => watcher.on('close', resolve));
    try {
      await waitFor('the watcher prints the current table', () => lines.length > 0);
      expect(lines[0]?.type).toBe('snapshot');
      expect(lines[0]?.members?.map((m) => m.name).sort()).toEqual(['cli-a', 'cli-b', 'cli-c']);
      const { code } = await runCli(['update', '--http', c().http, '--tag', 'watched=yes']);
      expect(code).toBe(0);
      await waitFor("the watcher prints cli-c's update", () =>
        lines.some((l) => l.type === 'update' && l.member?.name === 'cli-c' && l.member.tags.watched === 'yes'),
      );
    } finally {
      watcher.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('marks a killed member left everywhere with `constellation force-leave`', async () => {
    const victim = c();
    await victim.kill('SIGKILL');
    await waitFor(
      'cli-a and cli-b report cli-c dead',
      () => a().view.get('cli-c') === 'dead' && b().view.get('cli-c') === 'dead',
    );
    // Force-leave of a member that is alive is refused, with the agent's reason.
    const refused = await runCli(['force-leave', 'cli-b', '--http', a().http]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("no suspect or dead member named 'cli-b'");
    const { code, stdout } = await runCli(['force-leave', 'cli-c', '--http', a().http]);
    expect(code).toBe(0);
    expect(stdout).toContain('cli-c is marked as left');
    await waitFor(
      'cli-a and cli-b report cli-c left',
      () => a().view.get('cli-c') === 'left' && b().view.get('cli-c') === 'left',
    );
  });

  it('makes an agent leave gracefully and exit with `constellation leave`; the others report it left', async () => {
    const leaving = b();
    const { code, stdout } = await runCli(['leave', '--http', leaving.http]);
    expect(code).toBe(0);
    expect(stdout).toContain('cli-b left the cluster');
    await leaving.exited;
    expect(leaving.exit).toEqual({ code: 0, signal: null });
    expect(leaving.lines.at(-1)?.type).toBe('agent.stopped');
    await waitFor('cli-a reports cli-b left', () => a().view.get('cli-b') === 'left');
    expect(a().saw('dead', 'cli-b')).toHaveLength(0);
  });

  it('prints membership changes as text lines without --json', async () => {
    const child = spawn(
      process.execPath,
      [cliPath, 'agent', '--name', 'cli-text', '--bind', '127.0.0.64:0', '--http', 'off', '--profile', 'local'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor('the text agent to say it runs', () =>
        out.includes('constellation agent cli-text running on 127.0.0.64:'),
      );
      expect(out).not.toContain('status page');
      // Another member joins it: the join is reported as a line of text.
      const port = /running on 127\.0\.0\.64:(\d+)/.exec(out)?.[1];
      const joiner = await AgentProcess.start('cli-d', { host: '127.0.0.65', join: [`127.0.0.64:${port}`] });
      agents.push(joiner);
      await waitFor('the text agent reports cli-d joining', () =>
        /\d\d:\d\d:\d\d\.\d{3}\s+join\s+cli-d\s+127\.0\.0\.65:\d+\s+alive/.test(out),
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('SIGTERM: leaving the cluster');
    expect(out.trim().split('\n').at(-1)).toBe('agent stopped');
  });
});
