// `constellation agent --json` in a child process, as the agent and CLI tests see it: the JSON
// lines it prints (ready, membership changes, stopped), its view of the others rebuilt from
// them, and its exit. Also `runCli` for one-shot commands and `waitFor`, a poll with a
// deadline: nothing here waits on a fixed sleep.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type WaitOptions, waitFor as waitForShared } from '../helpers/wait';

export const root = path.resolve(__dirname, '..', '..');
export const cliPath = path.join(root, 'dist', 'cli', 'index.js');

function requireBuild(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build:ts\` first (npm test does)`);
}

/** `waitFor` (test/helpers/wait.ts) with the agent tests' longer deadline: agents are processes. */
export function waitFor(
  what: string | (() => string),
  condition: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<number> {
  return waitForShared(what, condition, { timeoutMs: 20_000, intervalMs: 25, ...options });
}

/** One line the agent printed with --json. */
export interface AgentLine {
  type: string;
  at: number;
  member?: { name: string; state: string; incarnation: number; resources: Record<string, number> };
  [key: string]: unknown;
}

export interface AgentStart {
  /** IP to bind the member and its HTTP endpoint on (any free port). */
  host: string;
  /** `ip:port` to bind the member on instead of `host:0` (a restart on the same address). */
  bind?: string;
  join?: string[];
  snapshot?: string;
  profile?: string;
  extra?: string[];
}

export class AgentProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: AgentLine[] = [];
  /** Each member's state as this agent last reported it. */
  readonly view = new Map<string, string>();
  stderr = '';
  address = '';
  http = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    let buffer = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = JSON.parse(buffer.slice(0, end)) as AgentLine;
        buffer = buffer.slice(end + 1);
        this.lines.push(line);
        if (line.member && line.type !== 'conflict') this.view.set(line.member.name, line.member.state);
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  /** Starts `constellation agent --json` and resolves once it printed `agent.ready`. */
  static async start(name: string, options: AgentStart): Promise<AgentProcess> {
    requireBuild();
    const args = [
      cliPath,
      'agent',
      '--json',
      '--name',
      name,
      '--bind',
      options.bind ?? `${options.host}:0`,
      '--http',
      `${options.host}:0`,
      '--profile',
      options.profile ?? 'local',
      '--log-level',
      'debug',
    ];
    for (const seed of options.join ?? []) args.push('--join', seed);
    if (options.snapshot) args.push('--snapshot', options.snapshot);
    args.push(...(options.extra ?? []));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const agent = new AgentProcess(name, child);
    await waitFor(`${name} to print agent.ready`, () => {
      if (agent.exit)
        throw new Error(`${name} exited before it was ready: ${JSON.stringify(agent.exit)}\n${agent.stderr}`);
      return agent.lines.some((l) => l.type === 'agent.ready');
    });
    const ready = agent.lines.find((l) => l.type === 'agent.ready') as AgentLine;
    agent.address = ready.address as string;
    agent.http = ready.http as string;
    return agent;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The lines of `type` (about `member`, when given). */
  saw(type: string, member?: string): AgentLine[] {
    return this.lines.filter((l) => l.type === type && (member === undefined || l.member?.name === member));
  }

  /** Kills it (SIGCONT first, in case it is stopped) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGCONT');
    this.child.kill(signal);
    await this.exited;
  }
}

/** Kills every agent still running. */
export async function killAll(agents: readonly (AgentProcess | undefined)[]): Promise<void> {
  await Promise.all(agents.map((a) => a?.kill()));
}

/** Runs `constellation ...args` to its end. */
export function runCli(
  args: readonly string[],
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`constellation ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': every byte of output has been read by then.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** True while a process with this pid exists (zombies count: they are reaped by their parent). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
