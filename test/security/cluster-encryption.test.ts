// Encryption and cluster isolation on real sockets (loopback, 127.0.0.x): the envelope wired
// into the runtime and the public Cluster API. Protocol behaviour is the simulator's and the
// engine harness's business; this file proves what only real members show: packets really are
// sealed and opened with the keyring, keys rotate in a running cluster, and strangers stay out.
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, type ClusterEvent, type ClusterOptions, InvalidConfigError, JoinFailedError } from '../../src/index';
import { addressOf, allSee, FAST, startGroup, waitFor } from '../cluster/helpers';
import { key } from './envelope-helpers';

const running: Cluster[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.shutdown()));
});

async function group(count: number, firstHost: number, options: Partial<ClusterOptions>, prefix = 'm') {
  const clusters = await startGroup(count, { prefix, firstHost, options: { ...FAST, ...options } });
  running.push(...clusters);
  const seed = addressOf(clusters[0] as Cluster);
  await Promise.all(clusters.slice(1).map((c) => c.join([seed])));
  const names = clusters.map((c) => c.local.name);
  await waitFor(`${prefix}* converge`, () => allSee(clusters, names, 'alive'));
  return clusters;
}

/** Waits until every cluster has received `packets` more datagrams than when called. */
async function traffic(clusters: Cluster[], packets = 30): Promise<void> {
  const start = clusters.map((c) => c.stats().packetsIn);
  await waitFor(`${packets} more packets everywhere`, () =>
    clusters.every((c, i) => c.stats().packetsIn >= (start[i] as number) + packets),
  );
}

const rejected = (c: Cluster, reason: string): number => c.stats().rejected[reason] ?? 0;

/** Counters are published by the member's own thread after it refuses: wait for them. */
const refusedFor = (c: Cluster, reason: string) =>
  waitFor(`${c.local.name} to count ${reason}`, () => rejected(c, reason) > 0);

describe('an encrypted cluster', () => {
  it('rotates its key while running: add everywhere, use everywhere, remove everywhere, nobody suspected', async () => {
    const oldKey = key(32, 40);
    const newKey = key(32, 41);
    const clusters = await group(5, 11, { clusterName: 'rotation', keys: [oldKey] });
    const events: ClusterEvent[] = [];
    for (const c of clusters) c.on('event', (e) => events.push(e));
    const oldId = clusters[0]?.keys.list()[0]?.id;

    for (const c of clusters) c.keys.add(newKey);
    await traffic(clusters);
    for (const c of clusters) c.keys.use(newKey);
    await traffic(clusters);
    for (const c of clusters) c.keys.remove(oldId as string);
    await traffic(clusters);

    expect(events.filter((e) => e.type === 'suspect' || e.type === 'dead')).toEqual([]);
    for (const c of clusters) {
      expect(c.keys.list()).toEqual([{ id: expect.stringMatching(/^[0-9a-f]{8}$/), bits: 256, primary: true }]);
      expect(c.stats().suspect + c.stats().dead).toBe(0);
      for (const reason of ['bad_key', 'tampered', 'unencrypted', 'wrong_cluster']) expect(rejected(c, reason)).toBe(0);
    }
    // The cluster now speaks only the new key: a member holding just the old one is refused.
    const stale = await Cluster.start({
      ...FAST,
      clusterName: 'rotation',
      keys: [oldKey],
      nodeName: 'stale',
      bind: '127.0.0.20:0',
    });
    running.push(stale);
    await expect(stale.join([addressOf(clusters[0] as Cluster)])).rejects.toBeInstanceOf(JoinFailedError);
    await refusedFor(clusters[0] as Cluster, 'bad_key');
    expect(clusters[0]?.member('stale')).toBeUndefined();
  });

  it('refuses members without its key: a plaintext member is unencrypted, another key is bad_key', async () => {
    const clusters = await group(3, 21, { clusterName: 'vault', keys: [key(16, 50).toString('base64')] });
    const seed = clusters[0] as Cluster;
    const plain = await Cluster.start({ ...FAST, clusterName: 'vault', nodeName: 'plain', bind: '127.0.0.24:0' });
    const wrong = await Cluster.start({
      ...FAST,
      clusterName: 'vault',
      keys: [key(16, 51)],
      nodeName: 'wrong',
      bind: '127.0.0.25:0',
    });
    running.push(plain, wrong);
    await expect(plain.join([addressOf(seed)])).rejects.toBeInstanceOf(JoinFailedError);
    await expect(wrong.join([addressOf(seed)])).rejects.toBeInstanceOf(JoinFailedError);
    await refusedFor(seed, 'unencrypted');
    await refusedFor(seed, 'bad_key');
    await traffic(clusters);
    for (const c of clusters)
      expect(
        c
          .members()
          .map((m) => m.name)
          .sort(),
      ).toEqual(['m0', 'm1', 'm2']);
    expect(plain.members().map((m) => m.name)).toEqual(['plain']);
    expect(wrong.members().map((m) => m.name)).toEqual(['wrong']);
  });
});

describe('cluster isolation', () => {
  it.each([
    ['sharing one key', [key(24, 60)]],
    ['without keys', undefined],
  ])('two clusters %s on one network never merge', async (_how, keys) => {
    const blue = await group(2, 31, { clusterName: 'blue', keys }, 'blue');
    const green = await group(2, 33, { clusterName: 'green', keys }, 'green');
    await expect((green[0] as Cluster).join([addressOf(blue[0] as Cluster)])).rejects.toBeInstanceOf(JoinFailedError);
    await traffic([...blue, ...green]);
    await refusedFor(blue[0] as Cluster, 'wrong_cluster');
    for (const c of blue) expect(c.members().every((m) => m.name.startsWith('blue'))).toBe(true);
    for (const c of green) expect(c.members().every((m) => m.name.startsWith('green'))).toBe(true);
  });
});

describe('keys in the API', () => {
  it('a key of the wrong length or not base64 is ERR_INVALID_CONFIG naming the key, never showing it', async () => {
    const secret = key(20, 70);
    for (const [keys, field] of [
      [[secret], 'keys[0]'],
      [[key(32, 71), secret.toString('base64')], 'keys[1]'],
      [['not base64!'], 'keys[0]'],
      [[key(16, 72), key(16, 72)], 'keys[1]'],
      [key(16, 73), 'keys'],
    ] as const) {
      const error = await Cluster.start({ nodeName: 'x', bind: '127.0.0.40:0', keys: keys as never }).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidConfigError);
      expect(error.code).toBe('ERR_INVALID_CONFIG');
      expect(error.field).toBe(field);
      for (const form of [secret.toString('hex'), secret.toString('base64')]) {
        expect(`${error.message} ${error.stack}`).not.toContain(form);
      }
    }
  });

  it('the keyring refuses what would break rotation, and a cluster without keys has none', async () => {
    const a = key(32, 80);
    const [c] = await group(1, 41, { keys: [a] });
    const member = c as Cluster;
    const fieldOf = (action: () => unknown) => {
      try {
        action();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidConfigError);
        return (error as InvalidConfigError).rule;
      }
      throw new Error('expected a refusal');
    };
    expect(fieldOf(() => member.keys.remove(a))).toMatch(/not the primary key/);
    expect(fieldOf(() => member.keys.add(a))).toMatch(/not already in the keyring/);
    expect(fieldOf(() => member.keys.use('00000000'))).toMatch(/a key in the keyring/);
    expect(fieldOf(() => member.keys.add(Buffer.alloc(7)))).toMatch(/16, 24 or 32-byte/);
    const [plain] = await group(1, 42, {}, 'p');
    expect(fieldOf(() => (plain as Cluster).keys.list())).toMatch(/runs without encryption/);
  });

  it('keys never appear in errors, stats, events or key listings', async () => {
    const secret = Buffer.from('k3y-that-must-never-be-printed!!', 'latin1');
    const forms = [secret.toString('hex'), secret.toString('base64'), secret.toString('latin1')];
    const clusters = await group(2, 43, { keys: [secret] });
    const texts: string[] = [];
    const events: ClusterEvent[] = [];
    clusters[1]?.on('event', (e) => events.push(e));
    for (const action of [
      () => clusters[0]?.keys.add(secret),
      () => clusters[0]?.keys.remove(secret),
      () => clusters[0]?.keys.use(secret.subarray(0, 20)),
    ]) {
      try {
        action();
      } catch (error) {
        texts.push(String(error), String((error as Error).stack), JSON.stringify(error));
      }
    }
    await (clusters[0] as Cluster).update({ tags: { role: 'changed' } });
    await waitFor('the update event', () => events.some((e) => e.type === 'update'));
    for (const c of clusters) texts.push(JSON.stringify(c.stats()), JSON.stringify(c.keys.list()));
    texts.push(JSON.stringify(events), JSON.stringify(clusters.map((c) => c.members())));
    expect(texts.length).toBeGreaterThan(6);
    for (const text of texts) for (const form of forms) expect(text).not.toContain(form);
  });
});
