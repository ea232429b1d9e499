// Every way a caller can get it wrong ends in a typed error with a stable code, never a crash:
// bad options (each field named), a busy or foreign address, seeds that do not answer or do not
// resolve, metadata over the limit, and calls after shutdown.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BindError,
  Cluster,
  type ClusterOptions,
  ConstellationError,
  InvalidConfigError,
  JoinFailedError,
  MetadataTooLargeError,
  NotRunningError,
  UnknownMemberError,
} from '../../src/index';
import { addressOf, FAST, stateOf, waitFor } from './helpers';

const base = { ...FAST, nodeName: 'e', bind: '127.0.0.51:0' } as ClusterOptions;

// [field the error must name, options that break it]
const badOptions: [string, Record<string, unknown>][] = [
  ['options', null as unknown as Record<string, unknown>],
  ['nodeName', { nodeName: undefined }],
  ['nodeName', { nodeName: '' }],
  ['nodeName', { nodeName: 'x'.repeat(256) }],
  ['nodeName', { nodeName: 42 }],
  ['nodeName', { nodeName: 'a\0b' }],
  ['clusterName', { clusterName: '' }],
  ['profile', { profile: 'fast' }],
  ['bind', { bind: 'localhost:7946' }],
  ['bind', { bind: '127.0.0.1' }],
  ['bind', { bind: '127.0.0.1:70000' }],
  ['bind', { bind: 7946 }],
  ['advertise', { advertise: '10.0.0.1:0' }],
  ['advertise', { advertise: 'host.example:7946' }],
  ['probeIntervalMs', { probeIntervalMs: 0 }],
  ['probeIntervalMs', { probeIntervalMs: 1.5 }],
  ['probeIntervalMs', { probeIntervalMs: '1000' }],
  ['probeTimeoutMs', { probeTimeoutMs: -1 }],
  ['probeTimeoutMs', { probeIntervalMs: 100, probeTimeoutMs: 200 }],
  ['indirectChecks', { indirectChecks: Number.NaN }],
  ['tcpFallbackProbe', { tcpFallbackProbe: 'yes' }],
  ['streamTimeoutMs', { streamTimeoutMs: 0 }],
  ['retransmitMult', { retransmitMult: 0 }],
  ['gossipNodes', { gossipNodes: -3 }],
  ['gossipIntervalMs', { gossipIntervalMs: 0 }],
  ['gossipToTheDeadMs', { gossipToTheDeadMs: Number.POSITIVE_INFINITY }],
  ['suspicionMult', { suspicionMult: 0 }],
  ['suspicionMaxTimeoutMult', { suspicionMaxTimeoutMult: 0 }],
  ['suspicionConfirmations', { suspicionConfirmations: 65 }],
  ['awarenessMaxMultiplier', { awarenessMaxMultiplier: 0 }],
  ['pushPullIntervalMs', { pushPullIntervalMs: -1 }],
  ['reconnectIntervalMs', { reconnectIntervalMs: 0.5 }],
  ['deadReapMs', { deadReapMs: -1 }],
  ['leftReapMs', { leftReapMs: null }],
  ['leavePropagateMs', { leavePropagateMs: [] }],
  ['mtu', { mtu: 100 }],
  ['mtu', { mtu: 70_000 }],
  ['maxRecordBytes', { maxRecordBytes: 10 }],
  ['maxMembers', { maxMembers: 0 }],
  ['maxBroadcasts', { maxBroadcasts: 0 }],
  ['resources', { resources: 'lots' }],
  ['resources.cpus', { resources: { cpus: 4 } }],
  ['resources.cpuTotal', { resources: { cpuTotal: -1 } }],
  ['resources.cpuTotal', { resources: { cpuTotal: 1e7 } }],
  ['resources.maxInstances', { resources: { maxInstances: 1.5 } }],
  ['resources.ramTotalMb', { resources: { ramTotalMb: Number.NaN } }],
  ['tags', { tags: ['a'] }],
  ['tags.zone', { tags: { zone: 3 } }],
  ['tags.zone', { tags: { zone: 'eu\0west' } }],
  ['ioThread', { ioThread: 'many' }],
  ['probeIntervallMs', { probeIntervallMs: 500 }],
];

describe('errors', () => {
  it.each(badOptions)('rejects a bad %s with ERR_INVALID_CONFIG naming it', async (field, change) => {
    const options = change === null ? null : { ...base, ...change };
    const error = await Cluster.start(options as ClusterOptions).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toBeInstanceOf(ConstellationError);
    expect((error as InvalidConfigError).code).toBe('ERR_INVALID_CONFIG');
    expect((error as InvalidConfigError).field).toBe(field);
    expect((error as Error).message).toContain(field);
  });

  it('rejects a record larger than maxRecordBytes at start with ERR_METADATA_TOO_LARGE', async () => {
    const error = await Cluster.start({ ...base, tags: { blob: 'x'.repeat(2000) } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetadataTooLargeError);
    expect((error as MetadataTooLargeError).code).toBe('ERR_METADATA_TOO_LARGE');
  });

  describe('with a running cluster', () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await Cluster.start(base);
    });
    afterAll(() => cluster.shutdown());

    it('rejects an address already bound with ERR_BIND naming the address', async () => {
      const error = await Cluster.start({ ...base, nodeName: 'second', bind: addressOf(cluster) }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BindError);
      expect((error as BindError).code).toBe('ERR_BIND');
      expect((error as BindError).address).toBe(addressOf(cluster));
      expect((error as Error).message).toMatch(/in use/i);
    });

    it('rejects an address this host does not have with ERR_BIND', async () => {
      const error = await Cluster.start({ ...base, bind: '192.0.2.1:0' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BindError);
      expect((error as BindError).address).toBe('192.0.2.1:0');
    });

    it('rejects a join through seeds that do not answer with ERR_JOIN_FAILED listing each seed', async () => {
      // Two ports nobody listens on: bind them, note them, close them.
      const dead = await Promise.all([freePort('127.0.0.52'), freePort('127.0.0.53')]);
      const seeds = dead.map((p, i) => `127.0.0.${52 + i}:${p}`);
      const error = await cluster.join(seeds, { retries: 1, retryDelayMs: 10 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JoinFailedError);
      const failure = error as JoinFailedError;
      expect(failure.code).toBe('ERR_JOIN_FAILED');
      expect(failure.attempts).toBe(2);
      expect(failure.seeds.map((s) => s.seed).sort()).toEqual([...seeds].sort());
      for (const s of failure.seeds) expect(s.error).toMatch(/refused/i);
      expect(failure.message).toContain(seeds[0]);
    });

    it('settles a join through more silent seeds than it may connect to at once, naming each', async () => {
      // At most 64 connections are in flight; seeds beyond that fail at once, the others when
      // they time out. None may leave the join hanging, and each is named.
      const servers = await Promise.all(
        Array.from({ length: 66 }, () => {
          const server = net.createServer(() => {});
          return new Promise<net.Server>((resolve) => server.listen(0, '127.0.0.55', () => resolve(server)));
        }),
      );
      try {
        const seeds = servers.map((s) => `127.0.0.55:${(s.address() as net.AddressInfo).port}`);
        const silent = await Cluster.start({ ...base, nodeName: 'many', bind: '127.0.0.56:0', streamTimeoutMs: 500 });
        try {
          const error = (await silent.join(seeds).catch((e: unknown) => e)) as JoinFailedError;
          expect(error).toBeInstanceOf(JoinFailedError);
          expect(error.seeds.map((s) => s.seed).sort()).toEqual([...seeds].sort());
          expect(error.seeds.filter((s) => /not contacted: too many/.test(s.error)).length).toBe(2);
          expect(error.seeds.filter((s) => /timed out/.test(s.error)).length).toBe(64);
        } finally {
          await silent.shutdown();
        }
      } finally {
        for (const s of servers) s.close();
      }
    });

    it('refuses a join through its own address alone with ERR_JOIN_FAILED saying so', async () => {
      const error = (await cluster.join([addressOf(cluster)]).catch((e: unknown) => e)) as JoinFailedError;
      expect(error).toBeInstanceOf(JoinFailedError);
      expect(error.seeds).toEqual([{ seed: addressOf(cluster), error: expect.stringMatching(/own address/) }]);
    });

    it('names a seed whose host name does not resolve in ERR_JOIN_FAILED', async () => {
      const error = await cluster.join(['no-such-host.invalid:7946']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JoinFailedError);
      expect((error as JoinFailedError).seeds).toEqual([
        { seed: 'no-such-host.invalid:7946', error: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) },
      ]);
    });

    it('rejects malformed seeds and join options with ERR_INVALID_CONFIG', async () => {
      await expect(cluster.join([])).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG', field: 'seeds' });
      await expect(cluster.join(['nope'])).rejects.toMatchObject({ field: 'seeds[0]' });
      await expect(cluster.join([42 as unknown as string])).rejects.toMatchObject({ field: 'seeds[0]' });
      await expect(cluster.join('a:1' as unknown as string[])).rejects.toMatchObject({ field: 'seeds' });
      await expect(cluster.join(['127.0.0.1:1'], { retries: -1 })).rejects.toMatchObject({ field: 'retries' });
    });

    it('resolves a host-name seed (localhost) and joins through it', async () => {
      const other = await Cluster.start({ ...base, nodeName: 'by-name', bind: '127.0.0.1:0' });
      try {
        const answered = await cluster.join([`localhost:${other.address.port}`]);
        expect(answered).toBeGreaterThanOrEqual(1);
        await waitFor(
          'each sees the other',
          () => stateOf(cluster, 'by-name') === 'alive' && stateOf(other, 'e') === 'alive',
        );
      } finally {
        await other.shutdown();
      }
    });

    it('rejects bad updates and an unknown force-leave with typed errors, and keeps running', async () => {
      await expect(cluster.update(null as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_CONFIG',
        field: 'update',
      });
      await expect(cluster.update({ resources: { cpuAvailable: -1 } })).rejects.toMatchObject({
        field: 'resources.cpuAvailable',
      });
      await expect(cluster.update({ tags: { big: 'x'.repeat(5000) } })).rejects.toBeInstanceOf(MetadataTooLargeError);
      await expect(cluster.forceLeave('nobody')).rejects.toBeInstanceOf(UnknownMemberError);
      await expect(cluster.forceLeave('nobody')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_MEMBER' });
      // The rejected update changed nothing.
      expect(cluster.local.tags).toEqual({});
      expect(cluster.running).toBe(true);
    });
  });

  it('rejects every call after shutdown with ERR_NOT_RUNNING, and shutdown stays idempotent', async () => {
    const cluster = await Cluster.start(base);
    await cluster.shutdown();
    await cluster.shutdown();
    expect(cluster.running).toBe(false);
    const calls: [string, () => unknown][] = [
      ['join', () => cluster.join(['127.0.0.1:1'])],
      ['update', () => cluster.update({ tags: {} })],
      ['forceLeave', () => cluster.forceLeave('x')],
      ['leave', () => cluster.leave()],
      ['members', () => cluster.members()],
      ['member', () => cluster.member('e')],
      ['stats', () => cluster.stats()],
      ['local', () => cluster.local],
      ['address', () => cluster.address],
      ['healthScore', () => cluster.healthScore],
    ];
    for (const [name, call] of calls) {
      const error = await Promise.resolve()
        .then(call)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error, name).toBeInstanceOf(NotRunningError);
      expect((error as NotRunningError).code, name).toBe('ERR_NOT_RUNNING');
    }
  });

  it('rejects a join still in flight when the cluster shuts down with ERR_NOT_RUNNING', async () => {
    // A seed that accepts the connection and never answers: the join waits on it.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.54', resolve));
    const accepted = new Promise((resolve) => silent.once('connection', resolve));
    const cluster = await Cluster.start({ ...base, streamTimeoutMs: 60_000 });
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const join = cluster.join([`127.0.0.54:${port}`]);
      await accepted;
      await cluster.shutdown();
      await expect(join).rejects.toBeInstanceOf(NotRunningError);
    } finally {
      silent.close();
    }
  });
});

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
