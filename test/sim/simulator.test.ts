// The simulator itself: replayable runs, a network model that does what the scenario says,
// and scenario errors that name the field at fault.
import { describe, expect, it } from 'vitest';
import { memberNames, type Scenario, simulate } from './sim-helpers';

// Something of everything, so the hash has crashes, refutations and partitions to cover.
const busy: Scenario = {
  seed: 42,
  nodes: 30,
  loss: 0.05,
  jitterMs: 3,
  actionsFrom: 'converged',
  actions: [
    { at: 2_000, kind: 'crash', members: ['n5'] },
    { at: 3_000, kind: 'pause', members: ['n6'] },
    { at: 9_000, kind: 'resume', members: ['n6'] },
    { at: 10_000, kind: 'partition', groups: [memberNames(10), memberNames(30).slice(10)] },
    { at: 25_000, kind: 'heal' },
    { at: 30_000, kind: 'restart', members: ['n5'] },
    { at: 31_000, kind: 'update', members: ['n8'], value: { tags: { v: '2' } } },
    { at: 32_000, kind: 'leave', members: ['n9'] },
  ],
  durationMs: 180_000,
};

describe('determinism', () => {
  it('the same scenario and seed replay the same event log byte for byte', () => {
    const first = simulate(busy);
    const second = simulate(busy);

    expect(first.metrics.eventCount).toBeGreaterThan(1000);
    expect(second.logHash).toBe(first.logHash);
    expect(JSON.stringify(second.events)).toBe(JSON.stringify(first.events));
    expect(second.metrics).toEqual(first.metrics);
  });

  it('a different seed gives a different event log', () => {
    expect(simulate({ ...busy, seed: 43 }).logHash).not.toBe(simulate(busy).logHash);
  });

  it('the hash covers the events whether or not they are kept', () => {
    const kept = simulate(busy);
    const dropped = simulate({ ...busy, recordEvents: false });

    expect(dropped.events).toEqual([]);
    expect(dropped.metrics.eventCount).toBe(kept.events.length);
    expect(dropped.logHash).toBe(kept.logHash);
  });

  it('engines sharing one record pool behave exactly like engines with their own', () => {
    expect(simulate({ ...busy, sharePool: false }).logHash).toBe(simulate(busy).logHash);
  });

  it('the result is the same on one thread or several', () => {
    // 200 members starting together fill each millisecond's round enough to be split across
    // threads; loss, a crash, a partition and a restart give the threads something to disagree on.
    const crowded: Scenario = {
      ...busy,
      nodes: 200,
      actions: [
        { at: 1_000, kind: 'crash', members: ['n5'] },
        { at: 4_000, kind: 'partition', groups: [memberNames(100), memberNames(200).slice(100)] },
        { at: 12_000, kind: 'heal' },
        { at: 14_000, kind: 'restart', members: ['n5'] },
      ],
      durationMs: 40_000,
    };
    const one = simulate({ ...crowded, threads: 1 });
    expect(one.metrics.eventCount).toBeGreaterThan(40_000);
    for (const threads of [2, 3]) {
      const many = simulate({ ...crowded, threads });
      expect(many.logHash).toBe(one.logHash);
      expect(many.metrics).toEqual(one.metrics);
    }
  });
});

describe('network model', () => {
  it('uniform loss drops about the configured fraction of datagrams', () => {
    const { metrics } = simulate({ seed: 8, nodes: 20, loss: 0.2, durationMs: 600_000, recordEvents: false });

    const dropped = metrics.datagramsLost / metrics.datagramsSent;
    expect(metrics.datagramsSent).toBeGreaterThan(10_000);
    expect(dropped).toBeGreaterThan(0.19);
    expect(dropped).toBeLessThan(0.21);
    // TCP retransmits what it loses: streams slow down instead of failing outright.
    expect(metrics.streamRetransmits).toBeGreaterThan(0);
  });

  it('ingress loss stops what a member hears, egress loss what it says', () => {
    // n4 goes deaf (ingress) or mute (egress) after convergence. Either way its probes fail,
    // so it accuses the members it probes. Deaf, its accusations still reach the others, who
    // start suspecting healthy members; mute, its accusations never leave it.
    const accusationsHeardFromN4 = (kind: 'ingressLoss' | 'egressLoss') => {
      const { events, metrics } = simulate({
        seed: 9,
        nodes: 20,
        actionsFrom: 'converged',
        actions: [{ at: 1_000, kind, members: ['n4'], value: 1 }],
        durationMs: 60_000,
      });
      const from = metrics.actions[0]?.at ?? 0;
      const after = events.filter((e) => e.at > from);
      expect(metrics.datagramsLost).toBeGreaterThan(0);
      expect(after.filter((e) => e.member === 'n4' && e.state === 'suspect').length).toBeGreaterThan(0);
      expect(after.filter((e) => e.about === 'n4' && e.state === 'suspect').length).toBeGreaterThan(0);
      return after.filter((e) => e.member !== 'n4' && e.about !== 'n4' && e.state === 'suspect').length;
    };

    expect(accusationsHeardFromN4('ingressLoss')).toBeGreaterThan(0);
    expect(accusationsHeardFromN4('egressLoss')).toBe(0);
  });

  it('a partition cuts datagrams between the groups only', () => {
    const names = memberNames(20);
    const { events, metrics } = simulate({
      seed: 10,
      nodes: 20,
      actionsFrom: 'converged',
      actions: [{ at: 1_000, kind: 'partition', groups: [names.slice(0, 5)] }],
      durationMs: 120_000,
    });
    const side = (name: string) => (Number(name.slice(1)) < 5 ? 'small' : 'rest');
    const from = metrics.actions[0]?.at ?? 0;
    const lost = events.filter((e) => e.at > from && (e.state === 'suspect' || e.state === 'dead'));

    expect(metrics.datagramsUnreachable).toBeGreaterThan(0);
    expect(lost.length).toBeGreaterThan(0);
    // Members named in no group form one group of their own: the other 15 stay together.
    expect(lost.filter((e) => side(e.member) === side(e.about))).toEqual([]);
  });

  it("datagrams beyond a paused member's socket buffer are dropped", () => {
    const pausing: Scenario = {
      seed: 11,
      nodes: 20,
      actionsFrom: 'converged',
      actions: [
        { at: 1_000, kind: 'pause', members: ['n3'] },
        { at: 31_000, kind: 'resume', members: ['n3'] },
      ],
      durationMs: 60_000,
    };

    expect(simulate(pausing).metrics.datagramsOverflowed).toBe(0);
    expect(simulate({ ...pausing, pauseBufferBytes: 100 }).metrics.datagramsOverflowed).toBeGreaterThan(0);
  });

  it('actions timed from convergence run after the cluster converged', () => {
    const { metrics } = simulate({
      seed: 12,
      nodes: 10,
      actionsFrom: 'converged',
      actions: [{ at: 500, kind: 'crash', members: ['n1'] }],
      stopWhen: 'detected',
      durationMs: 300_000,
    });

    expect(metrics.convergeMs).not.toBeNull();
    expect(metrics.actions[0]?.at).toBe((metrics.convergeMs ?? 0) + 500);
    expect(metrics.crashes[0]?.detectedBy).toBe(9);
  });
});

describe('scenario errors', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['nodes out of range', { nodes: 0 }, /nodes must be between/],
    ['an unknown profile', { nodes: 3, profile: 'moon' }, /profile must be/],
    [
      'an unknown config field',
      { nodes: 3, config: { probeIntervalMillis: 5 } },
      /unknown config field probeIntervalMillis/,
    ],
    ['an invalid config value', { nodes: 3, config: { probeIntervalMs: 0 } }, /config: .*probe_interval/],
    ['loss above 1', { nodes: 3, loss: 1.5 }, /loss must be between/],
    ['an unknown action', { nodes: 3, actions: [{ at: 0, kind: 'explode', members: [0] }] }, /actions\[0\]\.kind/],
    [
      'a member outside the cluster',
      { nodes: 3, actions: [{ at: 0, kind: 'crash', members: ['n3'] }] },
      /members\[0\]/,
    ],
    ['an unknown stop condition', { nodes: 3, stopWhen: 'bored' }, /stopWhen must be/],
  ];
  for (const [what, scenario, message] of cases) {
    it(`rejects ${what} with a message naming the field`, () => {
      expect(() => simulate(scenario as unknown as Scenario)).toThrow(message);
    });
  }
});
