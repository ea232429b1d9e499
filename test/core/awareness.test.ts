// Lifeguard IV.A, the local health multiplier, observed through one engine: what raises and
// lowers the score, its cap, and how it stretches the probe interval and timeout.
import { describe, expect, it } from 'vitest';
import { TestEngine } from './harness';

const members = ['b', 'c', 'd', 'e', 'f'];

function engine(config: Record<string, number | boolean> = {}): TestEngine {
  const a = new TestEngine('a', {
    config: { probeIntervalMs: 1000, probeTimeoutMs: 400, indirectChecks: 3, tcpFallbackProbe: false, ...config },
  });
  a.tick(0);
  a.learn(members, 0);
  return a;
}

interface Probe {
  at: number;
  target: string;
  seq: number;
}

function nextPing(a: TestEngine, from: number): Probe {
  let now = from;
  for (let i = 0; i < 1000; i++) {
    now = Math.max(now, a.native.nextDeadline());
    a.tick(now);
    for (const d of a.drain().datagrams) {
      const ping = d.messages.find((m) => m.type === 'ping');
      if (ping) return { at: now, target: d.to, seq: ping.seq };
    }
  }
  throw new Error('no ping sent');
}

/**
 * Lets one probe run its whole period with no ACK, answering `nacks` of its PING_REQs with a
 * NACK. Returns the probe that starts as the failed one ends.
 */
function failProbe(a: TestEngine, probe: Probe, nacks: number): Probe {
  let now = probe.at;
  for (let i = 0; i < 100; i++) {
    const next = a.native.nextDeadline();
    if (next === null) break;
    now = Math.max(now, next);
    a.tick(now);
    const out = a.drain();
    const helpers = out.datagrams.filter((d) => d.messages.some((m) => m.type === 'ping_req')).map((d) => d.to);
    for (const h of helpers.slice(0, nacks)) a.receive(h, [{ type: 'nack', seq: probe.seq, source: h }], now + 1);
    if (out.events.some((e) => e.kind === 'suspect')) {
      for (const d of out.datagrams) {
        const ping = d.messages.find((m) => m.type === 'ping');
        if (ping) return { at: now, target: d.to, seq: ping.seq };
      }
    }
  }
  throw new Error('the probe did not end in a suspicion and a new probe');
}

describe('local health score', () => {
  it('starts at zero', () => {
    expect(engine().native.healthScore()).toBe(0);
  });

  it('a failed probe with no NACKs back raises the score by the number of missing NACKs', () => {
    const a = engine();
    failProbe(a, nextPing(a, 0), 0);
    expect(a.native.healthScore()).toBe(3);
  });

  it('NACKs that do come back are not held against us', () => {
    const a = engine();
    failProbe(a, nextPing(a, 0), 2);
    expect(a.counters().nacksReceived).toBe(2);
    expect(a.native.healthScore()).toBe(1);
  });

  it('a failed probe with nobody to ask for help raises the score by one', () => {
    const a = engine({ indirectChecks: 0 });
    failProbe(a, nextPing(a, 0), 0);
    expect(a.native.healthScore()).toBe(1);
  });

  it('a timely direct ACK lowers the score by one', () => {
    const a = engine();
    const probe = failProbe(a, nextPing(a, 0), 0);
    expect(a.native.healthScore()).toBe(3);
    a.receive(probe.target, [{ type: 'ack', seq: probe.seq, source: probe.target }], probe.at + 1);
    expect(a.native.healthScore()).toBe(2);
  });

  it('is capped at awarenessMaxMultiplier - 1', () => {
    const a = engine({ awarenessMaxMultiplier: 4 });
    let probe = nextPing(a, 0);
    for (let i = 0; i < 4; i++) probe = failProbe(a, probe, 0);
    expect(a.native.healthScore()).toBe(3);
  });

  it('having to refute a suspicion about ourselves raises the score', () => {
    const a = engine();
    a.receive('b', [{ type: 'suspect', incarnation: 0n, target: 'a', from: 'b' }], 5);
    expect(a.counters().refutations).toBe(1);
    expect(a.native.healthScore()).toBe(1);
  });

  it('stretches the probe interval and the probe timeout by (score + 1)', () => {
    const a = engine();
    const first = nextPing(a, 0);
    const second = failProbe(a, first, 0); // score 3 now: multiplier 4
    expect(a.native.healthScore()).toBe(3);
    // The probe that starts when the failed period ends waits 4 x 400 ms before PING_REQs ...
    expect(second.at).toBe(first.at + 1000);
    let indirectAt = -1;
    let now = second.at;
    for (let i = 0; i < 100 && indirectAt < 0; i++) {
      now = a.native.nextDeadline();
      a.tick(now);
      if (a.drain().datagrams.some((d) => d.messages.some((m) => m.type === 'ping_req'))) indirectAt = now;
    }
    expect(indirectAt - second.at).toBe(4 * 400);
    // ... and the next probe comes 4 x 1000 ms after it started (an ACK via a helper ends the
    // probe well but leaves the period as it was fixed when the probe began).
    a.receive('b', [{ type: 'ack', seq: second.seq, source: second.target }], now + 1);
    const third = nextPing(a, now + 1);
    expect(third.at - second.at).toBe(4 * 1000);
  });
});
