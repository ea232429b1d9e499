// Probe round-trip times (SWIM §4.1 ping -> ack) as the engine measures them in its own time:
// an ACK that arrives a known delay after its PING lands in the bucket of that delay.
import { describe, expect, it } from 'vitest';
import { TestEngine } from './harness';

interface Rtt {
  buckets: number[];
  count: number;
  sumMs: number;
}

// The bounds kept by native/core/counters.h (kProbeRttBoundsMs), inclusive upper ends in ms.
const BOUNDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

function engine(): TestEngine {
  const a = new TestEngine('a', {
    config: { probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 2, tcpFallbackProbe: false },
  });
  a.tick(0);
  a.learn(['b', 'c', 'd'], 0);
  return a;
}

function rttOf(a: TestEngine): Rtt {
  return (a.counters() as unknown as { probeRtt: Rtt }).probeRtt;
}

/** Ticks to the next PING, answers it `delayMs` later (before any other tick), returns the next time to tick from. */
function probeAnsweredAfter(a: TestEngine, from: number, delayMs: number): number {
  let now = from;
  for (let i = 0; i < 100; i++) {
    now = Math.max(now, a.native.nextDeadline());
    a.tick(now);
    for (const d of a.drain().datagrams) {
      const ping = d.messages.find((m) => m.type === 'ping');
      if (!ping) continue;
      a.receive(d.to, [{ type: 'ack', seq: ping.seq, source: d.to }], now + delayMs);
      a.drain();
      return now + delayMs;
    }
  }
  throw new Error('no ping sent');
}

describe('probe round-trip times', () => {
  it('an ack 30 ms after its ping is counted once, in the (20, 50] ms bucket, with a sum of 30', () => {
    const a = engine();
    probeAnsweredAfter(a, 0, 30);
    const rtt = rttOf(a);
    expect(rtt.count).toBe(1);
    expect(rtt.sumMs).toBe(30);
    expect(rtt.buckets).toHaveLength(BOUNDS.length + 1);
    expect(rtt.buckets[BOUNDS.indexOf(50)]).toBe(1);
    expect(rtt.buckets.reduce((x, y) => x + y, 0)).toBe(1);
  });

  it('known delays fill the bucket whose inclusive upper bound first covers them', () => {
    const a = engine();
    const delays = [0, 1, 2, 3, 10, 11, 200, 499];
    let now = 0;
    for (const delay of delays) now = probeAnsweredAfter(a, now, delay);
    const rtt = rttOf(a);
    const expected = new Array(BOUNDS.length + 1).fill(0);
    for (const delay of delays) {
      const i = BOUNDS.findIndex((bound) => delay <= bound);
      expected[i === -1 ? BOUNDS.length : i] += 1;
    }
    expect(rtt.buckets).toEqual(expected);
    expect(rtt.count).toBe(delays.length);
    expect(rtt.sumMs).toBe(delays.reduce((x, y) => x + y, 0));
  });

  it('an ack that comes back only after the indirect phase began is not counted as a round trip', () => {
    const a = engine();
    let now = 0;
    for (let i = 0; i < 100; i++) {
      now = Math.max(now, a.native.nextDeadline());
      a.tick(now);
      const ping = a
        .drain()
        .datagrams.flatMap((d) => d.messages.map((m) => ({ to: d.to, m })))
        .find(({ m }) => m.type === 'ping');
      if (!ping) continue;
      // Past the probe timeout: PING_REQs go out, then the ACK (maybe relayed) arrives.
      a.tick(now + 500);
      a.drain();
      a.receive(ping.to, [{ type: 'ack', seq: ping.m.seq, source: ping.to }], now + 600);
      break;
    }
    expect(a.counters().acksReceived).toBe(1);
    expect(rttOf(a).count).toBe(0);
  });

  it('an ack with an unknown sequence number leaves the histogram untouched', () => {
    const a = engine();
    a.tick(Math.max(0, a.native.nextDeadline()));
    a.drain();
    a.receive('b', [{ type: 'ack', seq: 987654, source: 'b' }], 5);
    expect(rttOf(a).count).toBe(0);
    expect(rttOf(a).buckets.every((n) => n === 0)).toBe(true);
  });
});
