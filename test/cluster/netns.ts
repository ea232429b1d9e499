// A throwaway network namespace with loopback up, for tests and benchmarks that cut or drop
// traffic with iptables without touching the host's own rules. Needs root, `ip` and `iptables`.
import { execFileSync, spawnSync } from 'node:child_process';

/** Why namespaces cannot be used here, or undefined if they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating a network namespace needs root';
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['iptables', ['--version']],
  ] as const) {
    const probe = spawnSync(tool, args, { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) return `\`${tool}\` is not installed (.ci/run installs iptables)`;
  }
  return undefined;
}

export class Netns {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates the namespace and brings its loopback up (127.0.0.0/8 then routes inside it). */
  static create(prefix: string): Netns {
    const name = `${prefix}-${process.pid}-${Date.now() % 100_000}`;
    execFileSync('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    try {
      ns.exec('ip', ['link', 'set', 'lo', 'up']);
    } catch (error) {
      ns.remove();
      throw error;
    }
    return ns;
  }

  /** Runs a command inside the namespace; returns its stdout. */
  exec(command: string, args: readonly string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.name, command, ...args], { encoding: 'utf8' });
  }

  /** `iptables ...` inside the namespace. */
  iptables(...args: string[]): string {
    return this.exec('iptables', args);
  }

  /** Deletes the namespace (idempotent). */
  remove(): void {
    spawnSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
  }
}
