// The public `Cluster`: one member of a cluster, its protocol running on a native thread.
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { EventEmitter, on } from 'node:events';
import { isIP } from 'node:net';
import {
  type ClusterOptions,
  checkKey,
  checkResources,
  checkTags,
  parseHostPort,
  profileDefaults,
  type ResolvedOptions,
  type Resources,
  resolveOptions,
} from './config.js';
import {
  BindError,
  type ConstellationError,
  InvalidConfigError,
  JoinFailedError,
  MetadataTooLargeError,
  NotRunningError,
  type SeedFailure,
  UnknownMemberError,
} from './errors.js';
import type { Logger, LogLevel } from './logger.js';
import {
  type MemberColumns,
  type NativeClusterHandle,
  type NativeCompletion,
  type NativeEvent,
  native,
  readEvents,
  readMembers,
} from './native.js';

/** Where a member stands. `left` is a deliberate departure, `dead` a detected failure. */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** One member of the cluster, as this member sees it. A plain, frozen object. */
export interface Member {
  /** Random 64-bit id (hex) chosen each time the member's process starts. */
  readonly id: string;
  /** The member's name, unique in the cluster. */
  readonly name: string;
  /** The IP address others reach it at. */
  readonly address: string;
  /** Its UDP and TCP port. */
  readonly port: number;
  /** Its state as this member sees it. */
  readonly state: MemberState;
  /** Its incarnation: raised by the member to refute suspicion or announce an update. */
  readonly incarnation: number;
  /** Its announced resources. */
  readonly resources: Resources;
  /** Its announced tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Wire protocol version it speaks. */
  readonly protocolVersion: number;
  /** When this member last saw its state change (ms since the epoch). */
  readonly stateChangedAt: number;
}

/** Kinds of membership events. */
export type ClusterEventType = 'join' | 'alive' | 'suspect' | 'dead' | 'leave' | 'update' | 'conflict';

/** One membership event, in the order they happened. */
export interface ClusterEvent {
  /** What happened: `alive` = back from suspect/dead, `update` = new resources or tags. */
  readonly type: ClusterEventType;
  /** The member it happened to, after the change. */
  readonly member: Member;
  /** When (ms since the epoch). */
  readonly at: number;
}

/** Filters for {@link Cluster.members}. Every given condition must hold. */
export interface MemberFilter {
  /** Only members in this state (or any of these states). Default: every state. */
  state?: MemberState | readonly MemberState[];
  /** Only members whose tags include every one of these pairs. */
  tags?: Readonly<Record<string, string>>;
  /** Only members with at least this many CPUs available. */
  minCpuAvailable?: number;
  /** Only members with at least this much RAM available, MiB. */
  minRamAvailableMb?: number;
  /** Only members with at least this many free instance slots. */
  minFreeInstances?: number;
}

/** Options of {@link Cluster.join}. */
export interface JoinOptions {
  /** Further attempts after the first fails. Default 0. */
  retries?: number;
  /** Delay before the first retry; doubled each time up to `maxRetryDelayMs`. Default 1000. */
  retryDelayMs?: number;
  /** Cap of the retry delay. Default 30000. */
  maxRetryDelayMs?: number;
}

/**
 * Round-trip times of this member's direct probes (SWIM §4.1: PING sent, its ACK received
 * before the probe timeout), in a fixed histogram: bounded memory however long it runs. Times
 * are whole milliseconds of the protocol thread's monotonic clock, so an RTT under 1 ms counts
 * as 0 or 1. Acks that came back through PING_REQ helpers are not counted here.
 */
export interface ProbeRttHistogram {
  /** Inclusive upper bounds of the buckets, ms, ascending (1, 2, 5, 10 ... 10000). */
  readonly boundsMs: readonly number[];
  /**
   * Counts per bucket (not cumulative): `buckets[i]` counts RTTs in (`boundsMs[i-1]`,
   * `boundsMs[i]`]; the last entry (one more than `boundsMs`) counts RTTs above the last bound.
   */
  readonly buckets: readonly number[];
  /** Probes measured: the sum of `buckets`. */
  readonly count: number;
  /** Sum of the measured RTTs, ms (so `sumMs / count` is the mean). */
  readonly sumMs: number;
}

/** Counters and gauges of one member. */
export interface ClusterStats {
  /** Lifeguard local health: 0 is healthy; higher means this member is missing its own acks. */
  readonly healthScore: number;
  /** This member's incarnation. */
  readonly incarnation: number;
  /** Members known, ourselves and tombstones included. */
  readonly members: number;
  /** Members alive, ourselves included. */
  readonly alive: number;
  /** Members suspected (SWIM §4.2): missed their probes, may still refute. */
  readonly suspect: number;
  /** Members declared dead and not yet forgotten. */
  readonly dead: number;
  /** Members that left on purpose and are not yet forgotten. */
  readonly left: number;
  /** UDP datagrams received. */
  readonly packetsIn: number;
  /** UDP datagrams sent. */
  readonly packetsOut: number;
  /** UDP bytes received. */
  readonly bytesIn: number;
  /** UDP bytes sent. */
  readonly bytesOut: number;
  /** Direct probes (PING) sent, one per protocol period (SWIM §4.1). */
  readonly probesSent: number;
  /** ACKs that answered one of our probes, directly or through a helper. */
  readonly acksReceived: number;
  /** NACKs from helpers that could not reach the target either (Lifeguard IV.A). */
  readonly nacksReceived: number;
  /** Indirect probe requests (PING_REQ) sent after a direct probe went unanswered (SWIM §4.2). */
  readonly indirectProbesSent: number;
  /** TCP fallback pings attempted after an indirect probe. */
  readonly tcpPingsRequested: number;
  /** Probes that ended with no ACK at all. */
  readonly probeFailures: number;
  /** Round-trip times of direct probes, since start. */
  readonly probeRtt: ProbeRttHistogram;
  /** Suspicions this member started (its own failed probes). */
  readonly suspicions: number;
  /** Times this member refuted a suspicion of itself by raising its incarnation. */
  readonly refutations: number;
  /** Members this member declared dead (their suspicion expired here). */
  readonly deaths: number;
  /** Claims on our name (or another's) refused by the conflict rule. */
  readonly conflicts: number;
  /** Anti-entropy state exchanges (SYNC over TCP) this member asked for. */
  readonly syncsRequested: number;
  /** SYNC answers received and merged. */
  readonly syncsCompleted: number;
  /** SYNC requests of others answered. */
  readonly syncsServed: number;
  /** TCP exchanges that failed or timed out. */
  readonly streamsFailed: number;
  /** Incoming TCP connections refused (limits, unusable peer address). */
  readonly streamsRefused: number;
  /** UDP sends the kernel refused. */
  readonly udpSendErrors: number;
  /**
   * Datagrams and frames dropped, by reason: the envelope's (`unencrypted`, `bad_key`,
   * `wrong_cluster`, `tampered`; docs/security.md) and the decoder's (`truncated`, `bad_magic`,
   * `bad_version`, `oversize`, `bad_field`; docs/wire.md), plus `truncatedDatagram` (larger
   * than the receive buffer). None of them changes the member table.
   */
  readonly rejected: Readonly<Record<string, number>>;
}

interface Pending {
  resolve: (completion: NativeCompletion) => void;
  reject: (error: Error) => void;
}

const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ??
  (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);

function errorFrom(completion: NativeCompletion): ConstellationError {
  switch (completion.code) {
    case 'ERR_METADATA_TOO_LARGE':
      return new MetadataTooLargeError(completion.message);
    case 'ERR_FORCE_LEAVE':
      return new UnknownMemberError(completion.message);
    default:
      return new NotRunningError(completion.message);
  }
}

/** One key in a member's keyring, as {@link Cluster.keys} lists it. */
export interface KeyInfo {
  /** First 4 bytes of a SHA-256 of the key, as 8 hex digits; the only way a key is shown. */
  readonly id: string;
  /** 128, 192 or 256. */
  readonly bits: number;
  /** The key this member seals with. */
  readonly primary: boolean;
}

/** A member's keyring; see {@link Cluster.keys}. */
export interface ClusterKeys {
  /** Adds a key (Buffer or base64; 16, 24 or 32 bytes); returns its id. Every key opens. */
  add(key: Uint8Array | string): string;
  /** Makes a key in the ring (the key, or its id) the one that seals. */
  use(key: Uint8Array | string): void;
  /** Removes a key that is not the primary (the key, or its id). */
  remove(key: Uint8Array | string): void;
  /** The keys by id, in the order they were added. */
  list(): KeyInfo[];
}

function fail(field: string, rule: string): never {
  throw new InvalidConfigError(field, rule);
}

const KEY_ID = /^[0-9a-f]{8}$/;

/** A key id passes through; a key is checked and copied. */
function keyArgument(key: unknown): Buffer | string {
  return typeof key === 'string' && KEY_ID.test(key) ? key : checkKey(key, 'key');
}

const KEYRING_RULES: Record<string, string> = {
  ERR_KEYRING_BAD_LENGTH: 'a 16, 24 or 32-byte key (AES-128, -192 or -256)',
  ERR_KEYRING_EXISTS: 'a key not already in the keyring',
  ERR_KEYRING_FULL: 'room in the keyring (it holds at most 16 keys)',
  ERR_KEYRING_UNKNOWN: 'a key in the keyring',
  ERR_KEYRING_PRIMARY: 'not the primary key (make another key primary first)',
};

function keyringError(error: unknown): Error {
  const e = error as Error & { code?: string };
  if (e instanceof InvalidConfigError || e instanceof NotRunningError) return e;
  const rule = e.code ? KEYRING_RULES[e.code] : undefined;
  if (rule) return new InvalidConfigError('key', rule);
  if (e.code === 'ERR_NOT_RUNNING') return new NotRunningError(e.message);
  if (e instanceof TypeError) return new InvalidConfigError('key', 'a key (Buffer or base64) or a key id');
  return e;
}

function randomU64(): bigint {
  return randomBytes(8).readBigUInt64BE();
}

/**
 * One member of a cluster. Start it with {@link Cluster.start}, point it at other members with
 * {@link Cluster.join}, and listen for membership events. The protocol (probing, suspicion,
 * gossip) runs on a native thread: a blocked event loop does not make this member look dead.
 *
 * The seed system's calls map as: cluster init -> `Cluster.start`, shutdown -> `shutdown`,
 * is-running -> `running`, registry find -> `member` / `members`, registry update -> `update`,
 * registry add -> `join`, registry remove -> `forceLeave`, leave -> `leave`.
 */
export class Cluster {
  readonly #emitter = new EventEmitter();
  readonly #handle: NativeClusterHandle;
  readonly #options: ResolvedOptions;
  readonly #pending = new Map<number, Pending>();
  #nextToken = 1;
  #running = true;
  #encrypted = false;
  #resources: Resources;
  #tags: Record<string, string>;
  readonly #leavePropagateMs: number;
  readonly #logger: Logger;
  // With a logger: the rejected-packet counts last logged, and the timer that compares them.
  #rejectedSeen: Readonly<Record<string, number>> = {};
  #rejectedWatch: NodeJS.Timeout | undefined;
  // The member table as frozen objects, refreshed from the native snapshot only when it changed
  // (and then only the members that changed are converted): members() is an array copy.
  #table: readonly Member[] | undefined;
  #byName: Map<string, Member> | undefined;

  private constructor(handle: NativeClusterHandle, options: ResolvedOptions) {
    this.#handle = handle;
    this.#options = options;
    this.#resources = options.resources;
    this.#tags = options.tags;
    this.#leavePropagateMs = options.config.leavePropagateMs ?? profileDefaults(options.profile).leavePropagateMs;
    this.#logger = options.logger;
  }

  /** Logs through the logger given at start; a logger that throws never costs us an event. */
  #log(level: LogLevel, fields: Record<string, unknown>, message: string): void {
    try {
      this.#logger[level]({ name: this.#options.name, ...fields }, message);
    } catch {
      // The logger's own failure is not the cluster's: membership goes on unlogged.
    }
  }

  /**
   * Binds the sockets and starts the protocol thread. Rejects with `ERR_INVALID_CONFIG` (naming
   * the field), `ERR_BIND` or `ERR_METADATA_TOO_LARGE`.
   */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const resolved = resolveOptions(options);
    let cluster: Cluster | undefined;
    const onBatch = (events: MemberColumns, completions: NativeCompletion[]) => {
      if (cluster) cluster.#deliver(readEvents(events), completions);
    };
    let handle: NativeClusterHandle;
    const encrypted = resolved.keys.length > 0;
    try {
      handle = new (native().NativeCluster)({ ...resolved, id: randomU64(), seed: randomU64() }, onBatch);
    } catch (error) {
      const e = error as Error & { code?: string };
      const where = `${resolved.bindIp}:${resolved.bindPort}`;
      if (e.code === 'ERR_BIND') throw new BindError(where, e.message);
      if (e.code === 'ERR_METADATA_TOO_LARGE') throw new MetadataTooLargeError(e.message);
      if (e.code === 'ERR_INVALID_CONFIG' || e instanceof RangeError)
        throw new InvalidConfigError('options', e.message);
      throw error;
    } finally {
      // The runtime holds its own copy (wiped when it goes); ours is not kept.
      for (const key of resolved.keys) key.fill(0);
      resolved.keys = [];
    }
    cluster = new Cluster(handle, resolved);
    cluster.#encrypted = encrypted;
    const local = cluster.local;
    // Whether it encrypts, never with what: keys stay out of every log record.
    cluster.#log(
      'info',
      {
        address: hostPort(local.address, local.port),
        cluster: resolved.clusterName,
        incarnation: local.incarnation,
        profile: resolved.profile,
        ioThread: resolved.ioThread,
        encrypted,
      },
      'cluster started',
    );
    if (options.logger !== undefined) cluster.#watchRejected();
    return cluster;
  }

  /** True until `shutdown` (or the end of `leave`). */
  get running(): boolean {
    return this.#running;
  }

  /**
   * This member's encryption keyring (for a cluster started with `keys`). Changes apply to the
   * next packet. To rotate without downtime: `add` the new key on every member, then `use` it
   * on every member, then `remove` the old one everywhere. Keys are named by id (8 hex digits);
   * `list` never shows key bytes. Errors are `ERR_INVALID_CONFIG` with `field` `key`.
   */
  get keys(): ClusterKeys {
    const call = <T>(action: (handle: NativeClusterHandle) => T): T => {
      this.#assertRunning();
      if (!this.#encrypted) fail('keys', 'given at start: this cluster runs without encryption');
      try {
        return action(this.#handle);
      } catch (error) {
        throw keyringError(error);
      }
    };
    // Keyring changes are logged by key id only (what `list` shows), never by key.
    const logged = (action: string) => {
      const ring = this.#handle.keysList();
      this.#log(
        'info',
        { action, keys: ring.map((k) => k.id), primary: ring.find((k) => k.primary)?.id },
        'keyring changed',
      );
    };
    return {
      add: (key) => {
        const bytes = checkKey(key, 'key');
        try {
          const id = call((h) => h.keysAdd(bytes));
          logged('add');
          return id;
        } finally {
          bytes.fill(0);
        }
      },
      use: (key) => {
        call((h) => h.keysUse(keyArgument(key)));
        logged('use');
      },
      remove: (key) => {
        call((h) => h.keysRemove(keyArgument(key)));
        logged('remove');
      },
      list: () => call((h) => h.keysList().map((k) => Object.freeze({ ...k }))),
    };
  }

  /** The cluster name given at start. */
  get clusterName(): string {
    return this.#options.clusterName;
  }

  /** The address and port this member is reachable at (the bound port when 0 was asked). */
  get address(): {
    /** The IP address, as others reach it. */
    readonly host: string;
    /** The UDP and TCP port. */
    readonly port: number;
  } {
    const local = this.local;
    return { host: local.address, port: local.port };
  }

  /** This member's own record. */
  get local(): Member {
    const me = this.member(this.#options.name);
    if (!me) throw new NotRunningError();
    return me;
  }

  /** Lifeguard local health score: 0 is healthy. */
  get healthScore(): number {
    return this.stats().healthScore;
  }

  /**
   * Joins the cluster through one or more seeds (`host:port`; host names resolve to every
   * IPv4 and IPv6 address). Resolves with how many seeds answered; rejects with
   * `ERR_JOIN_FAILED` listing each seed's own error when none answered after every retry.
   */
  async join(seeds: readonly string[], options: JoinOptions = {}): Promise<number> {
    this.#assertRunning();
    if (!Array.isArray(seeds) || seeds.length === 0) throw new InvalidConfigError('seeds', 'a non-empty array');
    const parsed = seeds.map((seed, i) => ({ seed, ...parseHostPort(seed, `seeds[${i}]`, false) }));
    const retries = options.retries ?? 0;
    const baseDelay = options.retryDelayMs ?? 1000;
    const maxDelay = options.maxRetryDelayMs ?? 30_000;
    for (const [field, value] of [
      ['retries', retries],
      ['retryDelayMs', baseDelay],
      ['maxRetryDelayMs', maxDelay],
    ] as const) {
      if (!Number.isInteger(value) || value < 0) throw new InvalidConfigError(field, 'a non-negative integer');
    }
    let failures: SeedFailure[] = [];
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        const delayMs = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
        this.#log('debug', { seeds, attempt, delayMs, failures }, 'join attempt failed, retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        this.#assertRunning();
      }
      failures = [];
      const targets: { ip: string; port: number; seed: string }[] = [];
      await Promise.all(
        parsed.map(async ({ seed, host, port }) => {
          if (isIP(host)) {
            targets.push({ ip: host, port, seed });
            return;
          }
          try {
            for (const { address } of await lookup(host, { all: true })) targets.push({ ip: address, port, seed });
          } catch (error) {
            failures.push({ seed, error: (error as Error).message });
          }
        }),
      );
      if (targets.length > 0) {
        const result = await this.#command((token) => this.#handle.join(targets, token), false);
        if (result.ok) {
          this.#log('info', { seeds, contacted: result.value }, 'joined');
          return result.value;
        }
        for (const detail of result.details) failures.push({ seed: seedOf(detail, targets), error: detail });
      }
    }
    this.#log('warn', { seeds, attempts: retries + 1, failures }, 'join failed: no seed answered');
    throw new JoinFailedError(failures, retries + 1);
  }

  /** Announces new resources and/or tags (merged over the current ones); raises the incarnation. */
  async update(change: { resources?: Partial<Resources>; tags?: Readonly<Record<string, string>> }): Promise<void> {
    this.#assertRunning();
    if (typeof change !== 'object' || change === null) throw new InvalidConfigError('update', 'an object');
    const resources = checkResources(change.resources, 'resources', this.#resources);
    const tags = change.tags === undefined ? this.#tags : checkTags(change.tags, 'tags');
    const result = await this.#command((token) => this.#handle.update(resources, tags, token), true);
    if (!result.ok) throw errorFrom(result);
    this.#resources = resources;
    this.#tags = tags;
    this.#log('debug', { resources, tags }, 'local update announced');
  }

  /** Marks a suspect or dead member as left everywhere (Serf's force-leave). */
  async forceLeave(name: string): Promise<void> {
    this.#assertRunning();
    if (typeof name !== 'string' || name.length === 0) throw new InvalidConfigError('name', 'a non-empty string');
    const result = await this.#command((token) => this.#handle.forceLeave(name, token), true);
    if (!result.ok) throw errorFrom(result);
    this.#log('info', { member: name }, 'member forced to leave');
  }

  /**
   * Leaves on purpose: spreads LEAVE so others mark this member `left` (not `dead`), waits for
   * it to spread (at most `timeoutMs`; default `leavePropagateMs` plus one second), then stops.
   */
  async leave(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#assertRunning();
    const timeoutMs = options.timeoutMs ?? this.#leavePropagateMs + 1000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0)
      throw new InvalidConfigError('timeoutMs', 'a non-negative integer');
    let timer: NodeJS.Timeout | undefined;
    this.#log('info', { timeoutMs }, 'leaving');
    try {
      await Promise.race([
        this.#command((token) => this.#handle.leave(token), true),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
    } finally {
      if (timer) clearTimeout(timer);
      await this.shutdown();
    }
  }

  /** Stops at once, without telling anyone (others will detect it as dead). Idempotent. */
  async shutdown(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#rejectedWatch) clearInterval(this.#rejectedWatch);
    this.#handle.shutdown();
    this.#log('info', {}, 'cluster stopped');
    const error = new NotRunningError('the cluster was shut down');
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#emitter.emit('close');
  }

  /** `await using cluster = await Cluster.start(...)` shuts it down at the end of the scope. */
  async [asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /** Members this member knows, ourselves included, filtered. */
  members(filter: MemberFilter = {}): Member[] {
    const table = this.#refresh();
    const { state, tags, minCpuAvailable, minRamAvailableMb, minFreeInstances } = filter;
    if (
      state === undefined &&
      tags === undefined &&
      minCpuAvailable === undefined &&
      minRamAvailableMb === undefined &&
      minFreeInstances === undefined
    ) {
      return table.slice();
    }
    const states = state === undefined ? undefined : new Set(([] as MemberState[]).concat(state));
    const wanted = tags ? Object.entries(tags) : [];
    const out: Member[] = [];
    for (const m of table) {
      if (states && !states.has(m.state)) continue;
      if (wanted.length > 0 && wanted.some(([k, v]) => m.tags[k] !== v)) continue;
      const r = m.resources;
      if (minCpuAvailable !== undefined && r.cpuAvailable < minCpuAvailable) continue;
      if (minRamAvailableMb !== undefined && r.ramAvailableMb < minRamAvailableMb) continue;
      if (minFreeInstances !== undefined && r.maxInstances - r.currentInstances < minFreeInstances) continue;
      out.push(m);
    }
    return out;
  }

  /** One member by name, or undefined. */
  member(name: string): Member | undefined {
    const table = this.#refresh();
    if (this.#byName === undefined) {
      this.#byName = new Map();
      for (const m of table) this.#byName.set(m.name, m);
    }
    return this.#byName.get(name);
  }

  /** Protocol counters and gauges. */
  stats(): ClusterStats {
    this.#assertRunning();
    return this.#handle.stats() as unknown as ClusterStats;
  }

  /**
   * Membership events as an async iterator; ends when `signal` aborts or the cluster shuts down.
   * Events that arrive while the loop body runs are buffered, none is lost.
   */
  async *events(options: { signal?: AbortSignal } = {}): AsyncGenerator<ClusterEvent> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    this.#emitter.once('close', stop);
    try {
      for await (const [event] of on(this.#emitter, 'event', { signal: controller.signal })) {
        yield event as ClusterEvent;
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    } finally {
      options.signal?.removeEventListener('abort', stop);
      this.#emitter.off('close', stop);
    }
  }

  /** Listens for one type of membership event; the listener gets the member and the whole event. */
  on(event: ClusterEventType, listener: (member: Member, event: ClusterEvent) => void): this;
  /** Listens for every membership event, in order. */
  on(event: 'event', listener: (event: ClusterEvent) => void): this;
  /** Listens for the cluster shutting down. */
  on(event: 'close', listener: () => void): this;
  on(event: ClusterEventType | 'event' | 'close', listener: (...args: never[]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** As {@link Cluster.on}, for one event only. */
  once(event: ClusterEventType, listener: (member: Member, event: ClusterEvent) => void): this;
  once(event: 'event', listener: (event: ClusterEvent) => void): this;
  once(event: 'close', listener: () => void): this;
  once(event: ClusterEventType | 'event' | 'close', listener: (...args: never[]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener added with {@link Cluster.on} or {@link Cluster.once}. */
  off(event: ClusterEventType | 'event' | 'close', listener: (...args: never[]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** The current table, converting only what changed since the last call. */
  #refresh(): readonly Member[] {
    this.#assertRunning();
    const previous = this.#table;
    const update = this.#handle.members(previous !== undefined);
    if (update === undefined) return previous ?? [];
    const next = readMembers(update, previous);
    this.#table = next;
    this.#byName = undefined;
    return next;
  }

  #assertRunning(): void {
    if (!this.#running) throw new NotRunningError();
  }

  #command(send: (token: number) => void, rejectOnError: boolean): Promise<NativeCompletion> {
    const token = this.#nextToken++;
    return new Promise<NativeCompletion>((resolve, reject) => {
      this.#pending.set(token, { resolve, reject });
      // A pending command keeps the process alive until it completes.
      if (this.#pending.size === 1) this.#handle.ref();
      try {
        send(token);
      } catch (error) {
        this.#settle(token);
        reject(error);
      }
    }).then((completion) => {
      if (rejectOnError && !completion.ok) throw errorFrom(completion);
      return completion;
    });
  }

  /**
   * Refused packets are counted natively, one by one; the log gets at most one warning a second
   * that sums what was refused since the last one, by reason, so a flood of garbage (or a
   * neighbouring cluster with another name or key) shows up without drowning the log.
   */
  #watchRejected(): void {
    this.#rejectedSeen = this.stats().rejected;
    this.#rejectedWatch = setInterval(() => {
      if (!this.#running) return;
      const now = this.stats().rejected;
      const grown: Record<string, number> = {};
      let total = 0;
      for (const [reason, count] of Object.entries(now)) {
        const delta = count - (this.#rejectedSeen[reason] ?? 0);
        if (delta > 0) {
          grown[reason] = delta;
          total += delta;
        }
      }
      this.#rejectedSeen = now;
      if (total > 0) this.#log('warn', { total, reasons: grown }, 'packets rejected');
    }, REJECTED_LOG_INTERVAL_MS);
    this.#rejectedWatch.unref();
  }

  #logEvent(event: ClusterEvent): void {
    const m = event.member;
    const fields = {
      event: event.type,
      member: m.name,
      id: m.id,
      address: hostPort(m.address, m.port),
      state: m.state,
      incarnation: m.incarnation,
    };
    // A failure (or a fight over a name) is what an operator wants to see among the routine.
    const level = event.type === 'dead' || event.type === 'suspect' || event.type === 'conflict' ? 'warn' : 'info';
    this.#log(level, fields, `member ${event.type}`);
  }

  #settle(token: number): Pending | undefined {
    const pending = this.#pending.get(token);
    this.#pending.delete(token);
    if (pending && this.#pending.size === 0 && this.#running) this.#handle.unref();
    return pending;
  }

  #deliver(events: NativeEvent[], completions: NativeCompletion[]): void {
    // A listener that throws must not cost the other listeners their events or the pending
    // commands their results: finish the batch, then rethrow the first error as uncaught.
    let failure: { error: unknown } | undefined;
    const emit = (...args: [string, ...unknown[]]) => {
      try {
        this.#emitter.emit(...args);
      } catch (error) {
        failure ??= { error };
      }
    };
    for (const event of events as ClusterEvent[]) {
      this.#logEvent(event);
      emit(event.type, event.member, event);
      emit('event', event);
    }
    for (const completion of completions) this.#settle(completion.token)?.resolve(completion);
    if (failure) {
      const { error } = failure;
      process.nextTick(() => {
        throw error;
      });
    }
  }
}

/** How often rejected packets are summed into one log record. */
const REJECTED_LOG_INTERVAL_MS = 1000;

/** `host:port`, with IPv6 hosts in brackets. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// Maps a native "ip:port: error" line back to the seed that produced the address.
function seedOf(detail: string, targets: readonly { ip: string; port: number; seed: string }[]): string {
  for (const t of targets) {
    const prefix = t.ip.includes(':') ? `[${t.ip}]:${t.port}` : `${t.ip}:${t.port}`;
    if (detail.startsWith(prefix)) return t.seed;
  }
  return detail;
}
