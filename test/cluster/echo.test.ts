// The throughput harness behind bench/echo.mjs (addon.echo): it must count real round trips,
// through a running cluster (PING -> ACK) and through the raw echo server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../../src/index';
import { addon } from '../helpers/addon';
import { waitFor } from './helpers';

describe('the echo harness', () => {
  let cluster: Cluster;
  let raw: { id: number; port: number };
  beforeAll(async () => {
    cluster = await Cluster.start({ nodeName: 'echo-target', bind: '127.0.0.121:0', probeIntervalMs: 600_000 });
    raw = addon.echo.rawServerStart('127.0.0.122');
  });
  afterAll(async () => {
    addon.echo.rawServerStop(raw.id);
    await cluster.shutdown();
  });

  // Labelled with the cluster name, as a member of the 'default' cluster sends it: an
  // unlabelled packet is counted as wrong_cluster and dropped.
  const ping = (target: string) =>
    addon.envelope.seal(addon.codec.encode([{ type: 'ping', seq: 9, source: 'client', target }]), null, 'default');

  it('counts PING -> ACK round trips through a running cluster', async () => {
    const before = cluster.stats().packetsIn;
    const run = addon.echo.client({
      fromIp: '127.0.0.123',
      ip: cluster.address.host,
      port: cluster.address.port,
      packet: ping('echo-target'),
      window: 8,
      durationMs: 200,
    });
    expect(run.received).toBeGreaterThan(0);
    expect(run.received).toBeLessThanOrEqual(run.sent);
    expect(run.seconds).toBeGreaterThanOrEqual(0.2);
    // Every reply came from the runtime, which counted the pings it answered (its counters
    // reach stats() a moment after the packets, so wait for them).
    await waitFor(
      'the runtime has counted every ping it answered',
      () => cluster.stats().packetsIn - before >= run.received,
    );
  });

  it('gets nothing back for pings addressed to another member name', () => {
    const run = addon.echo.client({
      fromIp: '127.0.0.123',
      ip: cluster.address.host,
      port: cluster.address.port,
      packet: ping('someone-else'),
      window: 8,
      durationMs: 100,
    });
    expect(run.sent).toBeGreaterThan(0);
    expect(run.received).toBe(0);
  });

  it('counts round trips through the raw echo server, which reports what it echoed', () => {
    const other = addon.echo.rawServerStart('127.0.0.124');
    const run = addon.echo.client({
      fromIp: '127.0.0.123',
      ip: '127.0.0.124',
      port: other.port,
      packet: ping('x'),
      window: 8,
      durationMs: 100,
    });
    const echoed = addon.echo.rawServerStop(other.id);
    expect(run.received).toBeGreaterThan(0);
    expect(echoed).toBeGreaterThanOrEqual(run.received);
  });
});
