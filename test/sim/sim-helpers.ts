// Typed access to `addon.sim.simulate` and small readers over its event log, shared by the
// simulator's property tests. Nothing here decides a test's outcome: the tests assert.
import { addon } from '../helpers/addon';

export type EventKind = 'join' | 'alive' | 'suspect' | 'dead' | 'leave' | 'update' | 'conflict';
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface SimEvent {
  member: string; // the observer whose engine reported it
  about: string;
  kind: EventKind;
  state: MemberState;
  incarnation: number;
  at: number;
  tags: Record<string, string>;
}

export interface CrashMetrics {
  member: string;
  at: number;
  detectFirstMs: number | null;
  detectMedianMs: number | null;
  detectAllMs: number | null;
  detectedBy: number;
  observers: number;
  restartedAt: number | null;
}

export interface ActionMetrics {
  kind: string;
  ran: boolean;
  at: number | null;
  allAliveAfterMs: number | null;
}

export interface SimMetrics {
  convergeMs: number | null;
  detectFirstMs: number | null;
  detectMedianMs: number | null;
  detectAllMs: number | null;
  crashes: CrashMetrics[];
  falsePositives: number;
  falseSuspicions: number;
  falseDeathEpisodes: number;
  falseSuspicionEpisodes: number;
  falselyDeadMembers: number;
  falselySuspectedMembers: number;
  steadyMs: number;
  msgsPerNodePerSec: number;
  bytesPerNodePerSec: number;
  bytesPerMember: number;
  actions: ActionMetrics[];
  endedAt: number;
  eventCount: number;
  datagramsSent: number;
  datagramsLost: number;
  datagramsUnreachable: number;
  datagramsOverflowed: number;
  streamsFailed: number;
  streamRetransmits: number;
  allAliveAtEnd: boolean;
  runningAtEnd: number;
  /** Flood datagrams delivered to running members, and their engines' real time per packet. */
  floodDelivered: number;
  floodEngineNsPerPacket: number;
  /** Each member's engine memory when the run ended (0: not running). */
  memoryAtEndBytes: number[];
}

/** The engine configuration a run used (profile plus overrides), by the API's names. */
export interface SimConfig {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  streamTimeoutMs: number;
  gossipIntervalMs: number;
  gossipToTheDeadMs: number;
  pushPullIntervalMs: number;
  reconnectIntervalMs: number;
  deadReapMs: number;
  leftReapMs: number;
  leavePropagateMs: number;
  indirectChecks: number;
  retransmitMult: number;
  gossipNodes: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  suspicionConfirmations: number;
  awarenessMaxMultiplier: number;
  mtu: number;
  maxRecordBytes: number;
  tcpFallbackProbe: boolean;
}

export interface SimResult {
  events: SimEvent[];
  metrics: SimMetrics;
  logHash: string;
  config: SimConfig;
}

/**
 * One scripted action. `members` are indices or names ("n3"); `groups` (partition) are member
 * lists that cannot reach each other — members in no group form one more group; `value` is a
 * loss fraction (ingressLoss, egressLoss, loss) or `{ tags, resources }` (update).
 */
export interface SimAction {
  at: number;
  kind:
    | 'crash'
    | 'restart'
    | 'pause'
    | 'resume'
    | 'partition'
    | 'heal'
    | 'ingressLoss'
    | 'egressLoss'
    | 'loss'
    | 'update'
    | 'leave'
    | 'flood';
  members?: (number | string)[];
  groups?: (number | string)[][];
  value?: unknown;
  /** flood: datagrams from an address outside the cluster, cycled through `count` times in all. */
  packets?: Buffer[];
  count?: number;
  /** flood: the datagrams are spread evenly over this much virtual time. */
  spreadMs?: number;
}

/** The argument of `addon.sim.simulate` (native/addon/sim_binding.cc validates it). */
export interface Scenario {
  seed?: number;
  /** Members n0..n{nodes-1} at 10.x.y.z:7946. */
  nodes: number;
  /** Engine profile and network defaults: lan 1 ms + 0..1 ms jitter, wan 40 + 0..20 ms, local 0. */
  profile?: 'lan' | 'wan' | 'local';
  /** Engine config overrides by the API's names (probeIntervalMs, suspicionMult, ...). */
  config?: Record<string, number | boolean>;
  latencyMs?: number;
  jitterMs?: number;
  /** Uniform loss per datagram and per TCP segment, 0..1. */
  loss?: number;
  /** 'seed': everyone joins through n0; 'staggered': each through a random earlier member. */
  joinMode?: 'seed' | 'staggered';
  /** Member i starts at i * joinSpreadMs / nodes. */
  joinSpreadMs?: number;
  /** Virtual time the run may last. */
  durationMs?: number;
  actions?: SimAction[];
  /** Action times count from 0 or from the moment the cluster first converged. */
  actionsFrom?: 'start' | 'converged';
  /** Stop early: at convergence, once every crash is dead everywhere, or once all are alive again. */
  stopWhen?: 'duration' | 'converged' | 'detected' | 'allAlive';
  /** Keep the event list (the hash covers the events either way). */
  recordEvents?: boolean;
  /** One record pool for all engines (default) or one each. */
  sharePool?: boolean;
  /** Threads for the engines' work; the result does not depend on it. */
  threads?: number;
  /** A paused member's socket buffer; datagrams beyond it are dropped. */
  pauseBufferBytes?: number;
  progressEveryMs?: number;
  onProgress?: (progress: { at: number; queueEvents: number; running: number; converged: boolean }) => void;
}

export function simulate(scenario: Scenario): SimResult {
  return addon.sim.simulate(scenario) as SimResult;
}

/** Names n0..n{count-1}. */
export function memberNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i}`);
}

/** What each observer last heard about `about` (observer name -> its last event). */
export function lastEventAbout(events: SimEvent[], about: string): Map<string, SimEvent> {
  const last = new Map<string, SimEvent>();
  for (const event of events) if (event.about === about) last.set(event.member, event);
  return last;
}

/** Observers that, at some time in [from, to], held `about` in `state`. */
export function observersWith(events: SimEvent[], about: string, state: MemberState, from = 0, to = Infinity) {
  const who = new Set<string>();
  for (const event of events) {
    if (event.about === about && event.state === state && event.at >= from && event.at <= to) who.add(event.member);
  }
  return who;
}

/** Lifeguard IV.B suspicion timeout bounds for n members: min = mult * max(1, log10 n) * probe. */
export function suspicionBoundsMs(n: number, config: SimConfig) {
  const min = Math.floor(config.suspicionMult * Math.max(1, Math.log10(n)) * config.probeIntervalMs);
  return { min, max: min * config.suspicionMaxTimeoutMult };
}

/** Gossip rounds an update needs to reach everyone, with slack: retransmitMult * ceil(log10(n+1)). */
export function disseminationMs(n: number, config: SimConfig) {
  return config.retransmitMult * Math.ceil(Math.log10(n + 1)) * config.gossipIntervalMs + config.probeIntervalMs;
}

/** When scripted action `index` ran (virtual ms); throws if it never ran. */
export function actionAt(metrics: SimMetrics, index: number): number {
  const at = metrics.actions[index]?.at;
  if (at === null || at === undefined) throw new Error(`action ${index} never ran`);
  return at;
}
