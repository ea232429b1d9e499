// A cluster member in a child process (fixtures/member.cjs), as the tests see it: its view of
// the others, rebuilt from the events it forwards, plus signals and commands.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ClusterOptions, MemberState } from '../../src/index';

const fixture = path.join(__dirname, 'fixtures', 'member.cjs');
const compiled = path.resolve(__dirname, '..', '..', 'dist', 'index.js');

export interface ForwardedEvent {
  type: string;
  name: string;
  state: MemberState;
  incarnation: number;
  at: number;
}

export class MemberProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every event this member reported, in order. */
  readonly events: ForwardedEvent[] = [];
  /** Its view of the others: the state of each member's last event. */
  readonly view = new Map<string, MemberState>();
  address = '';
  exited = false;
  #nextId = 1;
  readonly #replies = new Map<number, (reply: Record<string, unknown>) => void>();

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    child.on('message', (message: Record<string, unknown>) => {
      if (message.type === 'event') {
        const event = message.event as ForwardedEvent;
        this.events.push(event);
        if (event.type !== 'conflict') this.view.set(event.name, event.state);
      } else if (message.type === 'reply') {
        const id = message.id as number;
        this.#replies.get(id)?.(message);
        this.#replies.delete(id);
      }
    });
    child.on('exit', () => {
      this.exited = true;
    });
  }

  /**
   * Starts a member named `name` bound on `bind`, joined through `seeds`; resolves once it is
   * running. With `netns`, the process runs inside that network namespace (`ip netns exec`).
   */
  static async start(
    name: string,
    bind: string,
    options: Partial<ClusterOptions>,
    seeds: string[] = [],
    { netns }: { netns?: string } = {},
  ): Promise<MemberProcess> {
    if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build:ts\` first`);
    const argument = JSON.stringify({ options: { ...options, nodeName: name, bind }, seeds });
    const child = netns
      ? spawn('ip', ['netns', 'exec', netns, process.execPath, fixture, argument], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
      : fork(fixture, [argument], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const member = new MemberProcess(name, child);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (message.type === 'ready') {
          member.address = message.address as string;
          done();
          resolve();
        } else if (message.type === 'fatal') {
          done();
          reject(new Error(`${name} failed to start: ${message.code} ${message.error}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
      };
      const done = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
    return member;
  }

  /** Sends a command and resolves with its reply. */
  request(cmd: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#replies.set(id, resolve);
      this.child.send({ id, cmd, ...fields }, (error) => {
        if (error) {
          this.#replies.delete(id);
          reject(error);
        }
      });
    });
  }

  /** Whether this member ever reported `type` (e.g. 'suspect') about `name`. */
  reported(type: string, name: string): boolean {
    return this.events.some((e) => e.type === type && e.name === name);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Kills the process (SIGKILL, after SIGCONT in case it is stopped) and waits for its exit. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGCONT');
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** Kills every member still running. */
export async function killAll(members: readonly (MemberProcess | undefined)[]): Promise<void> {
  await Promise.all(members.map((m) => m?.kill()));
}
