// /metrics: the Prometheus text exposition of cluster.stats(), scraped over HTTP and parsed.
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent';
import { waitFor } from './agent-process';
import { fetchFrom, QUICK } from './http-client';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format (0.0.4): `# TYPE` lines and `name{labels} value` samples. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
    samples.push({ name: sample[1] as string, labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (!found) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return found.value;
}

describe('/metrics', () => {
  const agents: Agent[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      agents.push(
        await Agent.start({
          ...QUICK,
          nodeName: `mx-${i}`,
          bind: `127.0.0.${91 + i}:0`,
          http: `127.0.0.${91 + i}:0`,
          join: i === 0 ? [] : [`127.0.0.91:${agents[0]?.cluster.address.port}`],
        }),
      );
      await agents.at(-1)?.join();
    }
    await waitFor('mx-0 sees three alive and has probed', () => {
      const s = agents[0]?.cluster.stats();
      return s?.alive === 3 && s.acksReceived > 0;
    });
  });
  afterAll(() => Promise.all(agents.map((a) => a.shutdown())));

  it('exposes every stats counter as a Prometheus counter, consistent with /v1/stats', async () => {
    const http = agents[0]?.httpAddress as string;
    const before = (await fetchFrom(http, 'GET', '/v1/stats')).json() as Record<string, number>;
    const scrape = await fetchFrom(http, 'GET', '/metrics');
    const after = (await fetchFrom(http, 'GET', '/v1/stats')).json() as Record<string, number>;
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const { types, samples } = parseExposition(scrape.text);
    const counters: [string, string][] = [
      ['constellation_packets_received_total', 'packetsIn'],
      ['constellation_packets_sent_total', 'packetsOut'],
      ['constellation_received_bytes_total', 'bytesIn'],
      ['constellation_sent_bytes_total', 'bytesOut'],
      ['constellation_probes_sent_total', 'probesSent'],
      ['constellation_acks_received_total', 'acksReceived'],
      ['constellation_nacks_received_total', 'nacksReceived'],
      ['constellation_indirect_probes_sent_total', 'indirectProbesSent'],
      ['constellation_probe_failures_total', 'probeFailures'],
      ['constellation_suspicions_total', 'suspicions'],
      ['constellation_refutations_total', 'refutations'],
      ['constellation_deaths_total', 'deaths'],
      ['constellation_syncs_served_total', 'syncsServed'],
      ['constellation_udp_send_errors_total', 'udpSendErrors'],
    ];
    for (const [name, field] of counters) {
      expect(types.get(name), name).toBe('counter');
      const v = value(samples, name);
      // Counters only grow: the scrape lies between the stats read before and after it.
      expect(v, name).toBeGreaterThanOrEqual(before[field] as number);
      expect(v, name).toBeLessThanOrEqual(after[field] as number);
    }
    expect(value(samples, 'constellation_probes_sent_total')).toBeGreaterThan(0);
    expect(types.get('constellation_health_score')).toBe('gauge');
    expect(value(samples, 'constellation_health_score')).toBe(after.healthScore);
    expect(value(samples, 'constellation_up')).toBe(1);
    for (const [state, count] of [
      ['alive', 3],
      ['suspect', 0],
      ['dead', 0],
      ['left', 0],
    ] as const) {
      expect(value(samples, 'constellation_members', { state })).toBe(count);
    }
    // Node's own process metrics ride along.
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
  });

  it('exposes probe round-trip times as a histogram in seconds, matching stats().probeRtt', async () => {
    const member = agents[0] as Agent;
    const http = member.httpAddress as string;
    const before = member.cluster.stats().probeRtt;
    const { types, samples } = parseExposition((await fetchFrom(http, 'GET', '/metrics')).text);
    const after = member.cluster.stats().probeRtt;
    const name = 'constellation_probe_rtt_seconds';
    expect(types.get(name)).toBe('histogram');
    const count = value(samples, `${name}_count`);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeGreaterThanOrEqual(before.count);
    expect(count).toBeLessThanOrEqual(after.count);
    expect(value(samples, `${name}_bucket`, { le: '+Inf' })).toBe(count);
    // One bucket per bound, in seconds, cumulative: never decreasing, ending at the count.
    const buckets = samples.filter((s) => s.name === `${name}_bucket` && s.labels.le !== '+Inf');
    expect(buckets.map((s) => Number(s.labels.le))).toEqual(after.boundsMs.map((ms) => ms / 1000));
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]?.value).toBeGreaterThanOrEqual(buckets[i - 1]?.value as number);
    }
    expect(buckets.at(-1)?.value).toBeLessThanOrEqual(count);
    const sum = value(samples, `${name}_sum`);
    expect(sum).toBeGreaterThanOrEqual(before.sumMs / 1000);
    expect(sum).toBeLessThanOrEqual(after.sumMs / 1000);
    // Loopback answers well within the probe timeout: every probe sits at or below 1 s.
    expect(value(samples, `${name}_bucket`, { le: '1' })).toBe(count);
  });

  it('counts a garbage datagram under rejected_packets_total with its reason', async () => {
    const target = agents[1] as Agent;
    const http = target.httpAddress as string;
    const reasons = Object.keys(target.cluster.stats().rejected);
    const read = async () => parseExposition((await fetchFrom(http, 'GET', '/metrics')).text).samples;
    const first = await read();
    for (const reason of reasons) {
      expect(value(first, 'constellation_rejected_packets_total', { reason })).toBe(
        target.cluster.stats().rejected[reason],
      );
    }
    const socket = createSocket('udp4');
    const { host, port } = target.cluster.address;
    await new Promise<void>((resolve, reject) =>
      socket.send(Buffer.from('definitely not a RADS packet'), port, host, (e) => (e ? reject(e) : resolve())),
    );
    socket.close();
    const sum = (samples: Sample[]) =>
      samples.filter((s) => s.name === 'constellation_rejected_packets_total').reduce((t, s) => t + s.value, 0);
    const start = sum(first);
    await waitFor('the rejection to show in /metrics', async () => sum(await read()) === start + 1);
    const last = await read();
    const grown = reasons.filter(
      (reason) =>
        value(last, 'constellation_rejected_packets_total', { reason }) >
        value(first, 'constellation_rejected_packets_total', { reason }),
    );
    expect(grown).toEqual(['bad_magic']);
  });
});
