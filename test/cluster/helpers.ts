// Shared pieces of the real-socket Cluster tests: tightened timings, a poll-with-deadline, and
// groups of clusters on 127.0.0.x. Nothing here sleeps for a fixed time to synchronise: every
// wait polls a condition and fails with a description when its deadline passes.
import { Cluster, type ClusterOptions, type MemberState } from '../../src/index';

/**
 * Protocol timings five times tighter than memberlist's LAN profile, so detection takes about a
 * second instead of several: probe every 200 ms (ack within 100 ms), suspicion from
 * 4 x 200 ms = 0.8 s up to 6 x 0.8 s = 4.8 s (Lifeguard IV.B), gossip every 50 ms, healing
 * attempts every second.
 */
export const FAST: Partial<ClusterOptions> = Object.freeze({
  profile: 'lan',
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  indirectChecks: 3,
  gossipIntervalMs: 50,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  pushPullIntervalMs: 2000,
  reconnectIntervalMs: 1000,
  streamTimeoutMs: 1000,
  leavePropagateMs: 1000,
  gossipToTheDeadMs: 5000,
});

export { waitFor } from '../helpers/wait';

/** The state `observer` holds for `name` (undefined if unknown). */
export function stateOf(observer: Cluster, name: string): MemberState | undefined {
  return observer.member(name)?.state;
}

/**
 * Starts `count` clusters named `${prefix}${i}` on 127.0.0.(firstHost + i), any free port; the
 * odd ones on I/O threads of their own, the even ones on the shared thread.
 */
export async function startGroup(
  count: number,
  {
    prefix = 'm',
    firstHost = 1,
    options = FAST,
  }: { prefix?: string; firstHost?: number; options?: Partial<ClusterOptions> } = {},
): Promise<Cluster[]> {
  const clusters: Cluster[] = [];
  try {
    for (let i = 0; i < count; i++) {
      // Both threading modes side by side: odd members get an I/O thread of their own.
      const ioThread = i % 2 === 1 ? 'own' : 'shared';
      clusters.push(
        await Cluster.start({ ioThread, ...options, nodeName: `${prefix}${i}`, bind: `127.0.0.${firstHost + i}:0` }),
      );
    }
  } catch (error) {
    await Promise.all(clusters.map((c) => c.shutdown()));
    throw error;
  }
  return clusters;
}

/** `host:port` of a running cluster. */
export function addressOf(cluster: Cluster): string {
  const { host, port } = cluster.address;
  return `${host}:${port}`;
}

/** True when every cluster sees every name in `names` as `state`. */
export function allSee(observers: readonly Cluster[], names: readonly string[], state: MemberState): boolean {
  return observers.every((o) => names.every((n) => stateOf(o, n) === state));
}

/**
 * Lets `ms` of wall time pass. This is the length of an experiment (how long a process stays
 * stopped), never a way to wait for something to happen: use {@link waitFor} for that.
 */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
