// What an attacker who can reach the port but holds no key (or a cluster running without
// encryption) can do to the protocol engine, shown through the engine harness with virtual
// time: a few engines wired together (TinyNet) plus packets injected as if from elsewhere.
// With encryption on, none of these packets gets past the envelope (envelope.test.ts); these
// tests are the engine's own line of defence.
//
// The incarnation-ceiling, amplification and reflection tests below began as `it.fails`
// "KNOWN WEAKNESS" tests; the engine fixed them (docs/security.md, W1-W3) and they are plain
// tests now, as is the forged-DEAD test (W4: a DEAD now starts a suspicion, issue 5); W5 is
// in flood-engine.test.ts.
import { describe, expect, it } from 'vitest';
import { addressOf, alive, codec, dead, leave, PORT, suspect, TestEngine, TinyNet } from '../core/harness';

const U64_MAX = 2n ** 64n - 1n;
const names = ['n1', 'n2', 'n3', 'n4', 'n5'];

function joined(config: Record<string, number | boolean> = {}): TinyNet {
  const net = new TinyNet();
  net.add('n1', { seed: 11, config });
  for (const n of names.slice(1)) {
    const e = net.add(n, { seed: 11 + Number(n.slice(1)), config });
    e.native.join([{ address: addressOf('n1'), port: PORT }], net.now);
    net.flush(n);
  }
  net.run(net.now + 5000);
  expect(net.converged('alive')).toBe(true);
  return net;
}

/** Delivers `messages` to every member but `except`, as if from an outsider, then runs on. */
function injectAll(net: TinyNet, messages: object[], except: string[] = []): void {
  for (const [name, engine] of net.engines) {
    if (except.includes(name)) continue;
    engine.receive('mallory', messages, net.now);
    net.flush(name);
  }
}

/** The virtual time, after `start`, at which every member first sees `name` alive again. */
function aliveEverywhereAt(net: TinyNet, name: string, start: number, until: number): number | null {
  for (let t = start; t <= until; t += 100) {
    net.run(t);
    if ([...net.engines.values()].every((e) => e.name === name || e.state(name) === 'alive')) return t - start;
  }
  return null;
}

describe('forged membership claims', () => {
  it('a forged DEAD sent to every other member only raises suspicion: the victim refutes it, never dead anywhere', () => {
    const net = joined();
    const start = net.now;
    injectAll(net, [dead('n3', 0n, 'mallory')], ['n3']);
    // Issue 5 (was weakness W4): nobody dies on another's word. Everyone but the victim starts
    // its own suspicion instead of declaring a death ...
    expect(net.events.filter((e) => e.kind === 'suspect' && e.name === 'n3').length).toBe(4);
    expect(net.events.filter((e) => e.kind === 'dead')).toEqual([]);
    // ... the victim's refutation (a higher incarnation) ends it well before any timer runs out ...
    const after = aliveEverywhereAt(net, 'n3', start, start + 30000);
    expect(after).not.toBeNull();
    expect(after).toBeLessThanOrEqual(2000);
    expect(net.get('n3').native.incarnation()).toBeGreaterThan(0n);
    // ... and no member ever saw it dead.
    net.run(net.now + 60000);
    expect(net.events.filter((e) => e.kind === 'dead')).toEqual([]);
    expect(net.converged('alive')).toBe(true);
  });

  it('forged DEADs repeated from many invented senders never kill a live member', () => {
    const net = joined();
    const start = net.now;
    // Every second for 60 s, each member hears from three new "witnesses" that n2 is dead:
    // the most confirmations a suspicion can count, again and again.
    for (let t = 0; t < 60; t++) {
      net.run(start + t * 1000);
      injectAll(
        net,
        [0, 1, 2].map((i) => dead('n2', net.get('n2').native.incarnation(), `witness${t}-${i}`)),
        ['n2'],
      );
    }
    net.run(net.now + 60000);
    expect(net.events.filter((e) => e.kind === 'dead')).toEqual([]);
    expect(net.converged('alive')).toBe(true);
  });

  it('a forged LEAVE for a live member is refuted the same way', () => {
    const net = joined();
    const start = net.now;
    injectAll(net, [leave('n2', 0n)], ['n2']);
    expect(net.events.filter((e) => e.kind === 'leave' && e.name === 'n2').length).toBe(4);
    expect(aliveEverywhereAt(net, 'n2', start, start + 30000)).not.toBeNull();
    net.run(net.now + 60000);
    expect(net.converged('alive')).toBe(true);
  });

  it('a forged SUSPECT never becomes a death: the victim refutes before the suspicion expires', () => {
    const net = joined();
    injectAll(net, [suspect('n4', 0n, 'mallory')], ['n4']);
    net.run(net.now + 120000);
    expect(net.events.filter((e) => e.kind === 'dead')).toEqual([]);
    expect(net.converged('alive')).toBe(true);
  });

  it("a spoofed ALIVE rewriting a member's metadata is overridden by the member itself", () => {
    const net = joined();
    const forged = alive('n5', 1n, { tags: { role: 'evil' } });
    injectAll(net, [forged], ['n5']);
    expect(net.get('n1').member('n5')?.record.tags).toEqual({ role: 'evil' });
    net.run(net.now + 10000);
    for (const e of net.engines.values()) {
      if (e.name !== 'n5') expect(e.member('n5')?.record.tags).toEqual({ zone: 'a' });
    }
    expect(net.get('n5').native.incarnation()).toBeGreaterThan(1n);
  });

  it('a SUSPECT about us at incarnation 2^64-1 never lowers our incarnation', () => {
    // refute() computes max(accused, ours) + 1; incarnations above 2^62 are refused so it
    // never wraps (core/engine_state.h kMaxIncarnation).
    const a = new TestEngine('a', { incarnation: 5n });
    a.tick(0);
    a.learn(['b'], 0);
    a.receive('mallory', [suspect('a', U64_MAX, 'mallory')], 1);
    expect(a.native.incarnation()).toBeGreaterThanOrEqual(5n);
  });

  it('one forged SUSPECT at incarnation 2^64-1 cannot kill a live member', () => {
    const net = joined();
    injectAll(net, [suspect('n3', U64_MAX, 'mallory')]);
    net.run(net.now + 120000);
    expect(net.events.filter((e) => e.kind === 'dead' && e.name === 'n3')).toEqual([]);
  });
});

describe('amplification and reflection', () => {
  it("a stranger's PING is never answered with more bytes than it carried", () => {
    const a = new TestEngine('a');
    a.tick(0);
    // Something to gossip: the piggybacked updates are what inflate the answer.
    a.learn(
      Array.from({ length: 40 }, (_, i) => `member-${i}`),
      0,
    );
    const ping = codec.encode([{ type: 'ping', seq: 1, source: 'x', target: 'a' }]);
    a.native.receive('192.0.2.77', 9999, ping, 1);
    const sent = a.native.drain().datagrams.filter((d: { address: string }) => d.address === '192.0.2.77');
    const bytesOut = sent.reduce((sum: number, d: { bytes: Buffer }) => sum + d.bytes.length, 0);
    expect(bytesOut).toBeLessThanOrEqual(ping.length);
  });

  it('a PING_REQ from a stranger never makes us probe a third address', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.learn(['b', 'c'], 0);
    const request = codec.encode([
      {
        type: 'ping_req',
        seq: 9,
        source: 'x',
        target: 'victim',
        targetAddress: '198.51.100.5',
        targetPort: 53,
        wantNack: true,
      },
    ]);
    a.native.receive('192.0.2.77', 9999, request, 1);
    const sent = a.native.drain().datagrams.map((d: { address: string }) => d.address);
    expect(sent).not.toContain('198.51.100.5');
  });

  it('PING_REQs from a member start at most 256 relays at a time', () => {
    const a = new TestEngine('a');
    a.tick(0);
    const targets = Array.from({ length: 400 }, (_, i) => `t${i}`);
    a.learn(['b', ...targets], 0);
    const targetAddresses = new Set(targets.map(addressOf));
    let probes = 0;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i] as string;
      const request = codec.encode([
        {
          type: 'ping_req',
          seq: i,
          source: 'b',
          target,
          targetAddress: addressOf(target),
          targetPort: PORT,
          wantNack: false,
        },
      ]);
      a.native.receive(addressOf('b'), PORT, request, 1);
      probes += a.native.drain().datagrams.filter((d: { address: string }) => targetAddresses.has(d.address)).length;
    }
    expect(probes).toBe(256);
  });
});
