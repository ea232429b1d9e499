// SWIM probing (§4.1-4.3) through one engine: ping -> ack, PING_REQ through helpers, the TCP
// fallback request, suspicion when nobody answers, the round-robin order, the buddy system,
// and the helper's side of an indirect probe (relay ACK, answer NACK).
import { describe, expect, it } from 'vitest';
import { addressOf, codec, messagesOf, type SentDatagram, TestEngine } from './harness';

const members = ['b', 'c', 'd', 'e'];

function engine(config: Record<string, number | boolean> = {}): TestEngine {
  const a = new TestEngine('a', {
    config: { probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 3, tcpFallbackProbe: false, ...config },
  });
  a.tick(0);
  a.learn(members, 0);
  return a;
}

/** Ticks until the engine sends its next PING; returns it with the time it went out. */
function nextPing(a: TestEngine, from: number): { at: number; target: string; seq: number; packet: SentDatagram } {
  let now = from;
  for (let i = 0; i < 1000; i++) {
    now = Math.max(now, a.native.nextDeadline());
    a.tick(now);
    const out = a.drain();
    for (const d of out.datagrams) {
      const ping = d.messages.find((m) => m.type === 'ping');
      if (ping) return { at: now, target: d.to, seq: ping.seq, packet: d };
    }
  }
  throw new Error('no ping sent');
}

describe('probing', () => {
  it('a ping answered with an ack in time leaves every member alive', () => {
    const a = engine();
    let now = 0;
    for (let round = 0; round < 12; round++) {
      const ping = nextPing(a, now);
      now = ping.at + 10;
      a.receive(ping.target, [{ type: 'ack', seq: ping.seq, source: ping.target }], now);
      expect(a.drain().events).toEqual([]);
    }
    for (const m of members) expect(a.state(m)).toBe('alive');
    expect(a.counters().acksReceived).toBe(12);
    expect(a.counters().probeFailures).toBe(0);
  });

  it('probes members in shuffled round-robin order: each exactly once per round', () => {
    const a = engine();
    let now = 0;
    const targets: string[] = [];
    for (let i = 0; i < 12; i++) {
      const ping = nextPing(a, now);
      targets.push(ping.target);
      now = ping.at + 1;
      a.receive(ping.target, [{ type: 'ack', seq: ping.seq, source: ping.target }], now);
    }
    for (let round = 0; round < 3; round++) {
      expect(targets.slice(round * 4, round * 4 + 4).sort()).toEqual(members);
    }
    // Shuffled: with this seed the three rounds are not all in the same order.
    const orders = new Set([0, 1, 2].map((r) => targets.slice(r * 4, r * 4 + 4).join()));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('the ping names its target and our name, and the probe timeout passes before any PING_REQ', () => {
    const a = engine();
    const ping = nextPing(a, 0);
    const message = ping.packet.messages[0];
    expect(message).toMatchObject({ type: 'ping', source: 'a', target: ping.target });
    const early = a.runUntil(ping.at, ping.at + 499);
    expect(messagesOf(early.datagrams, 'ping_req')).toEqual([]);
  });

  it('without an ack, PING_REQ goes to indirectChecks other alive members after the probe timeout', () => {
    const a = engine();
    const ping = nextPing(a, 0);
    a.tick(ping.at + 500);
    const out = a.drain();
    const requests = out.datagrams.filter((d) => d.messages.some((m) => m.type === 'ping_req'));
    expect(requests).toHaveLength(3);
    const helpers = requests.map((d) => d.to);
    expect(new Set(helpers).size).toBe(3);
    expect(helpers).not.toContain(ping.target);
    expect(helpers).not.toContain('a');
    for (const r of requests) {
      expect(r.messages.find((m) => m.type === 'ping_req')).toMatchObject({
        seq: ping.seq,
        source: 'a',
        target: ping.target,
        targetPort: 7946,
        wantNack: true,
      });
    }
    expect(a.counters().indirectProbesSent).toBe(3);
  });

  it('an ack relayed by a helper during the indirect phase prevents suspicion', () => {
    const a = engine();
    const ping = nextPing(a, 0);
    a.tick(ping.at + 500);
    const helper = a.drain().datagrams.find((d) => d.messages.some((m) => m.type === 'ping_req'))?.to as string;
    a.receive(helper, [{ type: 'ack', seq: ping.seq, source: ping.target }], ping.at + 700);
    const rest = a.runUntil(ping.at + 700, ping.at + 1000);
    expect(rest.events).toEqual([]);
    expect(a.state(ping.target)).toBe('alive');
    expect(a.counters().acksReceived).toBe(1);
  });

  it('a target that answers nobody by the end of the protocol period is suspected by us', () => {
    const a = engine();
    const ping = nextPing(a, 0);
    const during = a.runUntil(ping.at, ping.at + 999);
    expect(during.events).toEqual([]);
    a.tick(ping.at + 1000);
    const out = a.drain();
    expect(out.events).toMatchObject([{ kind: 'suspect', name: ping.target, state: 'suspect' }]);
    expect(a.counters().suspicions).toBe(1);
    expect(a.counters().probeFailures).toBe(1);
    // The suspicion is gossiped under our name as the accuser.
    const later = a.runUntil(ping.at + 1000, ping.at + 3000);
    expect(messagesOf([...out.datagrams, ...later.datagrams], 'suspect')).toContainEqual({
      type: 'suspect',
      incarnation: 0n,
      target: ping.target,
      from: 'a',
    });
  });

  it('with the TCP fallback on, a failed direct probe also asks the host for a TCP ping, whose ACK counts', () => {
    const a = engine({ tcpFallbackProbe: true });
    const ping = nextPing(a, 0);
    a.tick(ping.at + 500);
    const streams = a.drain().streams;
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({ kind: 'ping', to: ping.target });
    expect(streams[0]?.messages).toEqual([{ type: 'ping', seq: ping.seq, source: 'a', target: ping.target }]);
    const reply = codec.encodeFrame({ type: 'ack', seq: ping.seq, source: ping.target });
    expect(a.native.streamResponse(streams[0]?.id, reply, ping.at + 600)).toBe(true);
    const rest = a.runUntil(ping.at + 600, ping.at + 1000);
    expect(rest.events).toEqual([]);
    expect(a.state(ping.target)).toBe('alive');
    expect(a.counters().tcpPingsRequested).toBe(1);
  });

  it('with the TCP fallback off, no stream is requested for a failed probe', () => {
    const a = engine({ tcpFallbackProbe: false });
    const ping = nextPing(a, 0);
    const out = a.runUntil(ping.at, ping.at + 1000);
    expect(out.streams).toEqual([]);
  });

  it('buddy system: a ping to a suspected member carries the suspicion so it can refute at once', () => {
    const a = engine();
    a.receive('c', [{ type: 'suspect', incarnation: 0n, target: 'b', from: 'c' }], 1);
    a.drain();
    let now = 1;
    for (let i = 0; i < 8; i++) {
      const ping = nextPing(a, now);
      now = ping.at + 1;
      if (ping.target !== 'b') {
        a.receive(ping.target, [{ type: 'ack', seq: ping.seq, source: ping.target }], now);
        continue;
      }
      // The SUSPECT comes before the PING (our ALIVE between them pays for the answer), so b has
      // refuted by the time it writes the ACK, which carries the refutation back.
      expect(ping.packet.messages[0]).toEqual({ type: 'suspect', incarnation: 0n, target: 'b', from: 'c' });
      expect(ping.packet.messages[1]).toMatchObject({ type: 'alive', member: { name: 'a' } });
      expect(ping.packet.messages[2]).toMatchObject({ type: 'ping', target: 'b' });
      return;
    }
    throw new Error('b was never probed');
  });

  it('a ping for us is answered with an ack carrying its sequence number', () => {
    const a = engine();
    a.receive('b', [{ type: 'ping', seq: 4242, source: 'b', target: 'a' }], 5);
    const out = a.drain();
    expect(out.datagrams).toHaveLength(1);
    expect(out.datagrams[0]?.to).toBe('b');
    expect(out.datagrams[0]?.messages[0]).toEqual({ type: 'ack', seq: 4242, source: 'a' });
  });

  it('a ping meant for another name (a new process at an old address) gets no ack', () => {
    const a = engine();
    a.receive('b', [{ type: 'ping', seq: 1, source: 'b', target: 'someone-else' }], 5);
    expect(a.drain().datagrams).toEqual([]);
  });
});

describe('helping with an indirect probe', () => {
  const request = {
    type: 'ping_req',
    seq: 77,
    source: 'b',
    target: 'c',
    targetAddress: '',
    targetPort: 7946,
    wantNack: true,
  };

  const helper = (): TestEngine => engine();

  it('pings the target and forwards its ack to the requester under the requester sequence number', () => {
    const a = helper();
    a.receive('b', [{ ...request, targetAddress: addressOf('c') }], 10);
    const out = a.drain();
    const ping = out.datagrams.find((d) => d.to === 'c')?.messages[0];
    expect(ping).toMatchObject({ type: 'ping', source: 'a', target: 'c' });
    a.receive('c', [{ type: 'ack', seq: ping?.seq, source: 'c' }], 20);
    const forwarded = a.drain().datagrams;
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]?.to).toBe('b');
    expect(forwarded[0]?.messages[0]).toEqual({ type: 'ack', seq: 77, source: 'c' });
    expect(a.counters().pingReqsServed).toBe(1);
  });

  it('answers NACK when the target stays silent, early enough to reach the requester within its period (Lifeguard)', () => {
    // The requester sent the PING_REQ a probe timeout (500 ms) into its 1000 ms period, so a
    // NACK must be back within 500 ms: it goes after 80 % of that, 400 ms.
    const a = helper();
    a.receive('b', [{ ...request, targetAddress: addressOf('c') }], 10);
    a.drain();
    const before = a.runUntil(10, 409);
    expect(messagesOf(before.datagrams, 'nack')).toEqual([]);
    a.tick(410);
    const out = a.drain();
    const nack = out.datagrams.find((d) => d.messages.some((m) => m.type === 'nack'));
    expect(nack?.to).toBe('b');
    expect(nack?.messages[0]).toEqual({ type: 'nack', seq: 77, source: 'a' });
  });

  it('still forwards an ACK the target sends after the NACK, within the probe timeout', () => {
    const a = helper();
    a.receive('b', [{ ...request, targetAddress: addressOf('c') }], 10);
    const ping = a.drain().datagrams.find((d) => d.to === 'c')?.messages[0];
    a.runUntil(10, 450);
    a.receive('c', [{ type: 'ack', seq: ping?.seq, source: 'c' }], 450);
    expect(a.drain().datagrams).toMatchObject([{ to: 'b', messages: [{ type: 'ack', seq: 77, source: 'c' }] }]);
    // One NACK in all, however long the relay lives.
    expect(a.counters().nacksSent).toBe(1);
  });

  it('sends no NACK when the requester did not ask for one', () => {
    const a = helper();
    a.receive('b', [{ ...request, targetAddress: addressOf('c'), wantNack: false }], 10);
    a.drain();
    const out = a.runUntil(10, 2000);
    expect(messagesOf(out.datagrams, 'nack')).toEqual([]);
  });

  it('keeps at most 256 relays in flight, however many PING_REQs arrive', () => {
    const a = helper();
    for (let i = 0; i < 400; i++) a.receive('b', [{ ...request, seq: i, targetAddress: addressOf('c') }], 10);
    const pings = messagesOf(a.drain().datagrams, 'ping');
    expect(pings).toHaveLength(256);
  });
});
