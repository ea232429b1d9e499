// A handful of engines wired together with instant delivery (TinyNet): the rules that need
// more than one engine to show. Whole-cluster properties (scale, loss, timing) are tested in
// the simulator.
import { describe, expect, it } from 'vitest';
import { addressOf, dead, TinyNet } from './harness';

const names = ['n1', 'n2', 'n3', 'n4', 'n5'];

function joined(seedOf = 1): TinyNet {
  const net = new TinyNet();
  net.add('n1', { seed: seedOf });
  for (const n of names.slice(1)) {
    const e = net.add(n, { seed: seedOf + n.length + Number(n.slice(1)) });
    e.native.join([{ address: addressOf('n1'), port: 7946 }], net.now);
    net.flush(n);
  }
  net.run(net.now + 5000);
  return net;
}

describe('a small cluster', () => {
  it('five engines joining through one seed all see each other alive', () => {
    const net = joined();
    expect(net.converged('alive')).toBe(true);
    for (const e of net.engines.values()) expect(e.native.count('alive')).toBe(5);
  });

  it('stays quiet and healthy: no suspicion over two minutes without loss', () => {
    const net = joined();
    const before = net.events.length;
    net.run(net.now + 120000);
    expect(net.events.slice(before)).toEqual([]);
    for (const e of net.engines.values()) expect(e.native.healthScore()).toBe(0);
  });

  it('a metadata update reaches every member as an update event with the new record', () => {
    const net = joined();
    const resources = {
      maxInstances: 9,
      currentInstances: 9,
      cpuTotalMilli: 1,
      cpuAvailableMilli: 1,
      ramTotalMb: 1,
      ramAvailableMb: 1,
    };
    net.get('n3').native.updateLocal(resources, { role: 'cache' }, net.now);
    net.flush('n3');
    net.run(net.now + 3000);
    const updates = net.events.filter((e) => e.kind === 'update' && e.name === 'n3');
    expect(updates.map((e) => e.observer).sort()).toEqual(['n1', 'n2', 'n4', 'n5']);
    for (const e of net.engines.values()) {
      if (e.name !== 'n3') expect(e.member('n3')?.record.tags).toEqual({ role: 'cache' });
    }
  });

  it('a leave is seen as left by everyone, never as dead', () => {
    const net = joined();
    net.get('n2').native.leave(net.now);
    net.flush('n2');
    net.run(net.now + 5000);
    expect(net.get('n2').native.leaveComplete()).toBe(true);
    net.remove('n2');
    net.run(net.now + 60000);
    for (const e of net.engines.values()) expect(e.state('n2')).toBe('left');
    expect(net.events.filter((e) => e.name === 'n2' && (e.kind === 'dead' || e.kind === 'suspect'))).toEqual([]);
  });

  it('a crashed member is suspected, then declared dead by everyone', () => {
    const net = joined();
    net.remove('n4');
    net.run(net.now + 60000);
    for (const e of net.engines.values()) expect(e.state('n4')).toBe('dead');
  });

  it('a forged DEAD about a live member is refuted by it, and everyone sees it alive again', () => {
    const net = joined();
    const forged = dead('n3', 0n, 'mallory');
    net.get('n1').receive('mallory', [forged], net.now);
    net.flush('n1');
    net.run(net.now + 10000);
    expect(net.converged('alive')).toBe(true);
    expect(net.get('n3').native.incarnation()).toBeGreaterThan(0n);
  });

  it('after a partition in which each side declared the other dead, the halves reconnect on their own', () => {
    const net = joined();
    const left = new Set(['n1', 'n2']);
    net.drop = (from, to) => left.has(from) !== left.has(to);
    net.run(net.now + 120000);
    expect(net.get('n1').state('n4')).toBe('dead');
    expect(net.get('n4').state('n1')).toBe('dead');
    net.drop = () => false;
    net.run(net.now + 120000); // reconnect interval 30 s, no call to join
    expect(net.converged('alive')).toBe(true);
  });

  it('is deterministic: the same seeds and inputs give the same event log', () => {
    const log = (net: TinyNet) =>
      net.events.map((e) => `${e.observer} ${e.kind} ${e.name} ${e.incarnation} ${e.at}`).join('\n');
    const run = () => {
      const net = joined(7);
      net.remove('n5');
      net.run(net.now + 60000);
      return log(net);
    };
    const first = run();
    expect(first).toContain('dead n5');
    expect(run()).toBe(first);
  });
});
