// Dissemination (SWIM §4.1, memberlist's transmit-limited queue): transmit counts, supersession,
// least-sent first, packing up to the MTU, the gossip round and gossip to the recently dead.
import { describe, expect, it } from 'vitest';
import { alive, engineModule, type Msg, messagesOf, suspect, TestEngine } from './harness';

describe('retransmit limit', () => {
  it('is retransmitMult x ceil(log10(n + 1))', () => {
    const cases: [number, number][] = [
      [1, 4],
      [9, 4],
      [10, 8],
      [99, 8],
      [100, 12],
      [10000, 20],
    ];
    for (const [n, limit] of cases) {
      expect(engineModule.retransmitLimit(4, n)).toBe(4 * Math.ceil(Math.log10(n + 1)));
      expect(engineModule.retransmitLimit(4, n)).toBe(limit);
    }
    expect(engineModule.retransmitLimit(2, 5)).toBe(2);
  });
});

const members = ['b', 'c', 'd', 'e'];

function quietEngine(config: Record<string, number | boolean> = {}): TestEngine {
  const a = new TestEngine('a', { config: { gossipNodes: 3, gossipIntervalMs: 200, retransmitMult: 4, ...config } });
  a.tick(0);
  a.learn(members, 0);
  a.runAnswering(0, 30000); // drain what learning queued
  expect(a.native.pendingBroadcasts()).toBe(0);
  return a;
}

const aliveAbout = (datagrams: { messages: Msg[] }[], name: string): Msg[] =>
  messagesOf(datagrams as never, 'alive').filter((m) => m.member.name === name);

describe('broadcast queue', () => {
  it('sends an update exactly retransmitMult x ceil(log10(n + 1)) times, then drops it', () => {
    const a = quietEngine();
    a.receive('f', [alive('f', 0n)], 30000);
    expect(a.native.pendingBroadcasts()).toBe(1);
    const out = a.runAnswering(30000, 60000);
    // n = 6 live members (a, b..e, f): limit 4 x 1.
    expect(aliveAbout(out.datagrams, 'f')).toHaveLength(4);
    expect(a.native.pendingBroadcasts()).toBe(0);
  });

  it('scales the count with the cluster: 8 transmissions once there are ten or more members', () => {
    const a = quietEngine();
    a.learn(['f', 'g', 'h', 'i', 'j'], 30000);
    a.runAnswering(30000, 60000);
    a.receive('k', [alive('k', 0n)], 60000);
    const out = a.runAnswering(60000, 90000);
    expect(aliveAbout(out.datagrams, 'k')).toHaveLength(8);
  });

  it('a newer update about the same member replaces the queued one', () => {
    const a = quietEngine();
    a.receive('f', [alive('f', 0n)], 30000);
    a.receive('f', [alive('f', 1n, { tags: { zone: 'new' } })], 30001);
    expect(a.native.pendingBroadcasts()).toBe(1);
    const sent = aliveAbout(a.runAnswering(30001, 60000).datagrams, 'f');
    expect(sent).toHaveLength(4);
    expect(sent.every((m) => m.member.incarnation === 1n)).toBe(true);
  });

  it('a state change supersedes the pending ALIVE: only the SUSPECT goes out', () => {
    const a = quietEngine();
    a.receive('f', [alive('f', 0n)], 30000);
    a.receive('c', [suspect('f', 0n, 'c')], 30001);
    const deadline = a.native.suspicionDeadline('f');
    const out = a.runAnswering(30001, deadline - 1);
    expect(aliveAbout(out.datagrams, 'f')).toEqual([]);
    // Our pings to f also carry the suspicion beside the queue (Lifeguard's buddy system), as
    // does the one notice that tells f of c's accusation (SUSPECT, our ALIVE, PING).
    const buddy = out.datagrams.filter((d) => d.to === 'f' && d.messages.some((m) => m.type === 'ping')).length;
    const suspects = messagesOf(out.datagrams, 'suspect').filter((m) => m.target === 'f');
    expect(suspects.length - buddy).toBe(4);
  });

  it('offers the least-sent update first', () => {
    // One ALIVE per packet: big tags, small MTU, one gossip target.
    const big = { tags: { pad: 'x'.repeat(180) } };
    const a = quietEngine({ mtu: 256, gossipNodes: 1 });
    a.receive('f', [alive('f', 0n, big)], 30000);
    let now = 30000;
    const firsts: string[] = [];
    for (let i = 0; i < 3; i++) {
      now = a.native.nextDeadline();
      a.tick(now);
      const gossip = a.drain().datagrams.flatMap((d) => d.messages.filter((m) => m.type === 'alive'));
      firsts.push(...gossip.map((m) => m.member.name));
      if (i === 0) a.receive('g', [alive('g', 0n, big)], now);
    }
    // f went out once; then g (sent 0 times) beats f (sent once); then they alternate.
    expect(firsts.slice(0, 2)).toEqual(['f', 'g']);
  });

  it('packs several updates into one compound packet, never above the MTU', () => {
    const a = quietEngine({ gossipNodes: 1 });
    const names = Array.from({ length: 40 }, (_, i) => `m${i}`);
    a.learn(names, 30000);
    a.tick(a.native.nextDeadline());
    const packets = a.drain().datagrams;
    expect(packets.length).toBeGreaterThan(0);
    for (const p of packets) expect(p.bytes).toBeLessThanOrEqual(1400);
    const biggest = Math.max(...packets.map((p) => p.messages.length));
    expect(biggest).toBeGreaterThan(10);
    const fuller = Math.max(...packets.map((p) => p.bytes));
    expect(fuller).toBeGreaterThan(1400 - 120); // no room was left for one more ALIVE
  });

  it('piggybacks pending updates on acks, up to the size of the ping', () => {
    const a = quietEngine();
    a.receive('f', [alive('f', 0n)], 30000);
    // Pings carry piggybacked updates of their own; that size is what an ack may fill.
    a.receive('b', [{ type: 'ping', seq: 1, source: 'b', target: 'a' }, alive('b', 0n)], 30000);
    const ack = a.drain().datagrams[0];
    expect(ack?.messages[0]).toMatchObject({ type: 'ack' });
    expect(ack?.messages[1]).toMatchObject({ type: 'alive', member: { name: 'f' } });
  });

  it('answers a bare ping with a bare ack: no reply is bigger than its request', () => {
    const a = quietEngine();
    a.receive('f', [alive('f', 0n)], 30000);
    a.receive('b', [{ type: 'ping', seq: 1, source: 'b', target: 'a' }], 30000);
    const ack = a.drain().datagrams[0];
    expect(ack?.messages).toEqual([expect.objectContaining({ type: 'ack', seq: 1 })]);
  });
});

/** A gossip packet carries only updates (no probe message leads it). */
const isGossip = (messages: Msg[]): boolean => ['alive', 'suspect', 'dead', 'leave'].includes(messages[0]?.type);

describe('gossip round', () => {
  it('sends to gossipNodes distinct members every gossipIntervalMs while there is news', () => {
    // retransmitMult 10: enough transmissions left for several rounds of three packets.
    const a = quietEngine({ gossipNodes: 3, gossipIntervalMs: 200, retransmitMult: 10 });
    a.learn(['f', 'g', 'h'], 30000);
    const rounds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const next = a.native.nextDeadline();
      a.tick(next);
      const out = a.drain().datagrams.filter((d) => isGossip(d.messages));
      if (out.length === 0) continue;
      rounds.push(next);
      expect(new Set(out.map((d) => d.to)).size).toBe(3);
      expect(out.map((d) => d.to)).not.toContain('a');
    }
    expect(rounds.length).toBeGreaterThan(1);
    for (let i = 1; i < rounds.length; i++) expect((rounds[i] as number) - (rounds[i - 1] as number)).toBe(200);
  });

  it('sends nothing and asks for no gossip tick when there is no news', () => {
    const a = quietEngine({ probeIntervalMs: 5000, probeTimeoutMs: 500 });
    const out = a.runAnswering(30000, 31000);
    expect(out.datagrams.filter((d) => isGossip(d.messages))).toEqual([]);
  });

  it('includes members dead for less than gossipToTheDeadMs, so they can hear it and refute', () => {
    const a = quietEngine({ gossipNodes: 10, gossipToTheDeadMs: 5000 });
    const diedAt = a.outliveSuspicion('b', 0n, 'c', 30000);
    let now = diedAt;
    const reached = (from: number, until: number): Set<string> => {
      const names = new Set<string>();
      for (now = from; now < until; now += 200) {
        a.receive('c', [alive(`news${now}`, 0n)], now); // keep something to say
        a.tick(now);
        for (const d of a.drain().datagrams) if (isGossip(d.messages)) names.add(d.to);
      }
      return names;
    };
    expect(reached(diedAt, diedAt + 4800)).toContain('b');
    expect(reached(diedAt + 5200, diedAt + 10000)).not.toContain('b');
  });
});
