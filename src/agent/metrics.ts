// The Prometheus exposition of one member's `cluster.stats()`, through prom-client (what Node
// users scrape with). Every metric is read from the stats at scrape time: the protocol keeps its
// own counters on the native thread, this only names them.
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricType,
  type MetricValueWithName,
  Registry,
} from 'prom-client';
import type { Cluster, ClusterStats, MemberState, ProbeRttHistogram } from '../index.js';

type CounterKey = {
  [K in keyof ClusterStats]: ClusterStats[K] extends number ? K : never;
}[keyof ClusterStats];

/** Counters of `stats()`: metric name (without prefix and `_total`), stats field, help. */
const COUNTERS: readonly [string, CounterKey, string][] = [
  ['packets_received', 'packetsIn', 'UDP packets received'],
  ['packets_sent', 'packetsOut', 'UDP packets sent'],
  ['received_bytes', 'bytesIn', 'UDP bytes received'],
  ['sent_bytes', 'bytesOut', 'UDP bytes sent'],
  ['probes_sent', 'probesSent', 'Direct probes (PING) sent, SWIM §3.1'],
  ['acks_received', 'acksReceived', 'ACKs received for our probes'],
  ['nacks_received', 'nacksReceived', 'NACKs received from indirect probers, Lifeguard IV.A'],
  ['indirect_probes_sent', 'indirectProbesSent', 'Indirect probe requests (PING_REQ) sent, SWIM §3.2'],
  ['tcp_pings_requested', 'tcpPingsRequested', 'TCP fallback pings attempted'],
  ['probe_failures', 'probeFailures', 'Probes that ended without any ack'],
  ['suspicions', 'suspicions', 'Suspicions this member started'],
  ['refutations', 'refutations', 'Suspicions of this member it refuted by raising its incarnation'],
  ['deaths', 'deaths', 'Members this member declared dead'],
  ['conflicts', 'conflicts', 'Name conflicts refused'],
  ['syncs_requested', 'syncsRequested', 'Anti-entropy SYNCs requested over TCP'],
  ['syncs_completed', 'syncsCompleted', 'Anti-entropy SYNCs completed'],
  ['syncs_served', 'syncsServed', 'Anti-entropy SYNCs served to others'],
  ['streams_failed', 'streamsFailed', 'TCP exchanges that failed'],
  ['streams_refused', 'streamsRefused', 'TCP connections refused (limits)'],
  ['udp_send_errors', 'udpSendErrors', 'UDP sends the kernel refused'],
];

/**
 * A Prometheus histogram whose buckets are read whole from a histogram the protocol thread
 * keeps (`stats().probeRtt`), instead of being fed one observation at a time: prom-client's
 * Histogram only observes, and replaying millions of probes per scrape would be absurd. Bounds
 * are converted from milliseconds to seconds, Prometheus's base unit.
 */
class ProbeRttMetric extends Histogram<string> {
  readonly #name: string;
  readonly #help: string;
  readonly #read: () => ProbeRttHistogram | undefined;

  constructor(name: string, help: string, registry: Registry, read: () => ProbeRttHistogram | undefined) {
    super({ name, help, registers: [] });
    this.#name = name;
    this.#help = help;
    this.#read = read;
    registry.registerMetric(this);
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.getForPromString();
  }

  // The registry prefers this method when it exists (prom-client 15), so it is overridden too.
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const rtt = this.#read();
    const bucket = `${this.#name}_bucket`;
    const values: MetricValueWithName<string>[] = [];
    if (rtt) {
      let cumulative = 0;
      rtt.boundsMs.forEach((bound, i) => {
        cumulative += rtt.buckets[i] ?? 0;
        values.push({ metricName: bucket, labels: { le: bound / 1000 }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { le: '+Inf' }, value: rtt.count });
      values.push({ metricName: `${this.#name}_sum`, labels: {}, value: rtt.sumMs / 1000 });
      values.push({ metricName: `${this.#name}_count`, labels: {}, value: rtt.count });
    }
    // prom-client types `type` as a numeric enum that its own code never uses: it writes the
    // string into the exposition's TYPE line, as its Histogram does.
    const type = 'histogram' as unknown as MetricType;
    return { name: this.#name, help: this.#help, type, values, aggregator: 'sum', collect: () => {} };
  }
}

const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** Metric names start with this. */
export const METRIC_PREFIX = 'constellation_';

/**
 * A registry describing `cluster`: the counters above, `rejected_packets_total{reason}`, the
 * `probe_rtt_seconds` histogram, gauges for health score, incarnation and members by state, and Node's process metrics. A
 * scrape after the cluster stopped shows the last values read.
 */
export function clusterMetrics(cluster: Cluster, { defaultMetrics = true } = {}): Registry {
  const registry = new Registry();
  let last: ClusterStats | undefined;
  // One stats() call per scrape, shared by every metric of that scrape.
  let readAt = -1;
  const read = (): ClusterStats | undefined => {
    const now = performance.now();
    if (cluster.running && now - readAt > 5) {
      last = cluster.stats();
      readAt = now;
    }
    return last;
  };
  for (const [name, field, help] of COUNTERS) {
    new Counter({
      name: `${METRIC_PREFIX}${name}_total`,
      help,
      registers: [registry],
      collect() {
        const stats = read();
        this.reset();
        if (stats) this.inc(stats[field]);
      },
    });
  }
  new Counter({
    name: `${METRIC_PREFIX}rejected_packets_total`,
    help: 'Packets dropped because they did not decode or authenticate, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const stats = read();
      this.reset();
      for (const [reason, count] of Object.entries(stats?.rejected ?? {})) this.inc({ reason }, count);
    },
  });
  new ProbeRttMetric(
    `${METRIC_PREFIX}probe_rtt_seconds`,
    'Round-trip time of direct probes (PING sent to ACK received, SWIM §4.1), whole ms of the protocol clock',
    registry,
    () => read()?.probeRtt,
  );
  new Gauge({
    name: `${METRIC_PREFIX}health_score`,
    help: 'Lifeguard local health (awareness) score: 0 is healthy, higher means missed acks (Lifeguard IV.A)',
    registers: [registry],
    collect() {
      const stats = read();
      if (stats) this.set(stats.healthScore);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}incarnation`,
    help: "This member's incarnation number",
    registers: [registry],
    collect() {
      const stats = read();
      if (stats) this.set(stats.incarnation);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}members`,
    help: 'Members known (this member included), by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = read();
      if (!stats) return;
      for (const state of STATES) this.set({ state }, stats[state]);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}up`,
    help: '1 while the member runs, 0 once it has shut down',
    registers: [registry],
    collect() {
      this.set(cluster.running ? 1 : 0);
    },
  });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
