// The agent: one cluster member run for an operator. It adds to the library what a long-lived
// process needs around it: seeds and retries, a snapshot so a restart rejoins on its own, logs,
// recent changes, and the local HTTP endpoint (JSON API, /metrics, the status page).
import { EventEmitter } from 'node:events';
import { Cluster, type ClusterEvent, type ClusterOptions, type Member } from '../index.js';
import { type AgentHttp, startAgentHttp } from './http.js';
import { type Logger, silentLogger } from './logger.js';
import { Snapshot } from './snapshot.js';

/** Options of {@link Agent.start}: the cluster's own, plus what the agent does around it. */
export interface AgentOptions extends ClusterOptions {
  /** Seeds (`host:port`) to join through at start. With a snapshot, remembered members are added. */
  join?: readonly string[];
  /** Further join attempts (1 s, 2 s, 4 s ... apart, at most 10 s) before giving up. Default 5. */
  joinRetries?: number;
  /** Append-only file of what this member knows, read at start to rejoin without seeds. */
  snapshotPath?: string;
  /** `host:port` of the HTTP endpoint (port 0 picks one); undefined for none. */
  http?: string;
  /** A pino-style logger. Default: silent. */
  logger?: Logger;
  /** How many recent membership changes to keep for the status page. Default 50. */
  recentEvents?: number;
}

/** What {@link Agent.join} achieved. */
export interface JoinOutcome {
  /** Seeds tried: given and remembered. */
  readonly seeds: readonly string[];
  /** How many answered (0 when no seed was known or none answered). */
  readonly contacted: number;
  /** Why it failed, when it did. */
  readonly error?: Error;
}

/** Names the agent's own events: `event` (a membership change), `stopped`. */
export type AgentEvent = 'event' | 'stopped';

/**
 * One cluster member run for an operator, as `constellation agent` runs it: the {@link Cluster}
 * plus seeds and join retries, a {@link Snapshot} so a restart rejoins on its own (above its old
 * incarnation), logs, recent changes, and the local HTTP endpoint (JSON API, `/metrics`, the
 * status page).
 */
export class Agent {
  /** The member itself. */
  readonly cluster: Cluster;
  /** Where the agent and its cluster log (silent unless one was given). */
  readonly logger: Logger;
  /** The snapshot file, when `snapshotPath` was given. */
  readonly snapshot: Snapshot | undefined;
  /** Membership changes, oldest first, at most `recentEvents`. */
  readonly recent: ClusterEvent[] = [];
  readonly #options: AgentOptions;
  readonly #emitter = new EventEmitter();
  readonly #rememberedSeeds: string[];
  #http: AgentHttp | undefined;
  #watch: NodeJS.Timeout | undefined;
  #stopping: { cluster: Promise<void>; all: Promise<void> } | undefined;

  private constructor(cluster: Cluster, options: AgentOptions, snapshot: Snapshot | undefined, seeds: string[]) {
    this.cluster = cluster;
    this.#options = options;
    this.logger = options.logger ?? silentLogger;
    this.snapshot = snapshot;
    this.#rememberedSeeds = seeds;
  }

  /**
   * Starts the member, its snapshot and its HTTP endpoint. Does not join: call {@link join}
   * (the CLI prints that it is running first, then joins).
   */
  static async start(options: AgentOptions): Promise<Agent> {
    const logger = options.logger ?? silentLogger;
    let snapshot: Snapshot | undefined;
    let seeds: string[] = [];
    let incarnation = options.incarnation;
    if (options.snapshotPath !== undefined) {
      const opened = await Snapshot.open(options.snapshotPath, { logger });
      snapshot = opened.snapshot;
      // Members last seen alive come first; dead ones may be back by now (a whole cluster
      // restarting); members that left said they would not be.
      const rank = (state: string) => (state === 'alive' ? 0 : state === 'suspect' ? 1 : 2);
      seeds = [...opened.contents.members.values()]
        .filter((m) => m.name !== options.nodeName && m.state !== 'left')
        .sort((a, b) => rank(a.state) - rank(b.state))
        .map((m) => hostPort(m.address, m.port));
      // Never reuse an incarnation (SWIM §4.2): start above the last one this name recorded.
      const self = opened.contents.self;
      if (self?.name === options.nodeName) incarnation = Math.max(incarnation ?? 0, self.incarnation + 1);
      logger.info(
        {
          path: options.snapshotPath,
          records: opened.contents.records,
          members: opened.contents.members.size,
          incarnation: snapshot.selfIncarnation(options.nodeName),
        },
        'snapshot read',
      );
    }
    const {
      join: _join,
      joinRetries: _retries,
      snapshotPath: _path,
      http,
      logger: _logger,
      incarnation: _incarnation,
      recentEvents: _recent,
      ...clusterOptions
    } = options;
    let cluster: Cluster;
    try {
      // The cluster logs its own start, joins, membership changes and stop through our logger.
      cluster = await Cluster.start({
        ...clusterOptions,
        logger,
        ...(incarnation === undefined ? {} : { incarnation }),
      });
    } catch (error) {
      await snapshot?.close();
      throw error;
    }
    const agent = new Agent(cluster, options, snapshot, seeds);
    agent.#wire();
    try {
      if (http !== undefined) agent.#http = await startAgentHttp(agent, http);
    } catch (error) {
      await agent.shutdown();
      throw error;
    }
    const local = cluster.local;
    logger.info(
      {
        name: local.name,
        address: hostPort(local.address, local.port),
        cluster: cluster.clusterName,
        profile: options.profile ?? 'lan',
        http: agent.httpAddress,
      },
      'agent started',
    );
    return agent;
  }

  /** `host:port` of the HTTP endpoint, if it has one. */
  get httpAddress(): string | undefined {
    return this.#http?.address;
  }

  /** True until the agent stops. */
  get running(): boolean {
    return this.#stopping === undefined && this.cluster.running;
  }

  /** The configured seeds followed by those remembered in the snapshot, without repeats. */
  get seeds(): string[] {
    return [...new Set([...(this.#options.join ?? []), ...this.#rememberedSeeds])];
  }

  /**
   * Joins through {@link seeds}, retrying. Never throws: the outcome says what happened, and a
   * member with no seed simply starts a cluster of its own.
   */
  async join(): Promise<JoinOutcome> {
    const seeds = this.seeds;
    if (seeds.length === 0) {
      this.logger.info({}, 'no seeds: starting a new cluster');
      return { seeds, contacted: 0 };
    }
    try {
      const contacted = await this.cluster.join(seeds, {
        retries: this.#options.joinRetries ?? 5,
        retryDelayMs: 1000,
        maxRetryDelayMs: 10_000,
      });
      return { seeds, contacted };
    } catch (error) {
      if (this.running) this.logger.error({ seeds, error }, 'could not join through any seed');
      return { seeds, contacted: 0, error: error as Error };
    }
  }

  /** Current members, ourselves included. */
  members(): Member[] {
    return this.cluster.running ? this.cluster.members() : [];
  }

  /** Listens for each membership change, in order. */
  on(event: 'event', listener: (event: ClusterEvent) => void): this;
  /** Listens for the agent having stopped and closed everything. */
  on(event: 'stopped', listener: () => void): this;
  on(event: AgentEvent, listener: (...args: never[]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener added with {@link Agent.on}. */
  off(event: AgentEvent, listener: (...args: never[]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /**
   * Leaves the cluster on purpose (others mark this member `left`). Resolves once the cluster has
   * left; the HTTP endpoint and the snapshot close after that ({@link closed}).
   */
  leave(): Promise<void> {
    return this.#stop('leave').cluster;
  }

  /** Stops at once, without telling the others (they will detect it as dead); resolves once all is closed. */
  shutdown(): Promise<void> {
    return this.#stop('shutdown').all;
  }

  /** Resolves once the agent has stopped and closed everything (after `leave` or `shutdown`). */
  get closed(): Promise<void> {
    return this.#stop('none').all;
  }

  #stop(how: 'leave' | 'shutdown' | 'none'): { cluster: Promise<void>; all: Promise<void> } {
    if (this.#stopping) return this.#stopping;
    if (how === 'none') {
      // Not stopping yet: a promise that settles when someone stops the agent.
      return { cluster: this.#onceStopped(), all: this.#onceStopped() };
    }
    if (this.#watch) clearInterval(this.#watch);
    const name = this.#options.nodeName;
    const cluster = (async () => {
      if (!this.cluster.running) return;
      if (how === 'leave') {
        await this.cluster.leave();
      } else {
        await this.cluster.shutdown();
      }
    })();
    const all = cluster
      .catch(() => {})
      .then(async () => {
        await this.#http?.close();
        await this.snapshot?.close();
        this.logger.info({ name }, 'agent stopped');
        this.#emitter.emit('stopped');
      });
    this.#stopping = { cluster, all };
    return this.#stopping;
  }

  #onceStopped(): Promise<void> {
    return new Promise((resolve) => this.#emitter.once('stopped', () => resolve()));
  }

  #wire(): void {
    const limit = this.#options.recentEvents ?? 50;
    const name = this.#options.nodeName;
    this.cluster.on('event', (event) => {
      this.recent.push(event);
      if (this.recent.length > limit) this.recent.splice(0, this.recent.length - limit);
      const m = event.member;
      if (m.name === name) this.snapshot?.recordSelf(name, m.incarnation);
      else if (event.type !== 'conflict') {
        this.snapshot?.recordMember({
          name: m.name,
          address: m.address,
          port: m.port,
          state: m.state,
          incarnation: m.incarnation,
        });
      }
      this.#emitter.emit('event', event);
    });
    const snapshot = this.snapshot;
    if (snapshot) {
      snapshot.setLive(() => this.members().map((m) => m.name));
      // Refutations raise our incarnation without an event about ourselves: look each second.
      const recordSelf = () => {
        if (this.cluster.running) snapshot.recordSelf(name, this.cluster.stats().incarnation);
      };
      recordSelf();
      this.#watch = setInterval(recordSelf, 1000);
      this.#watch.unref();
    }
  }
}

/** `host:port`, with IPv6 hosts in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
