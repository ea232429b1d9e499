// Joining and convergence in the simulator (virtual time): everyone comes to see everyone
// alive, whichever way they join.
import { describe, expect, it } from 'vitest';
import { lastEventAbout, memberNames, simulate } from './sim-helpers';

// Gossip normally converges a fresh cluster in well under a second of virtual time; an
// ALIVE that misses someone is repaired by anti-entropy, one SYNC per push-pull interval
// (stretched x2 above 32 members, as memberlist's pushPullScale does), so two intervals bound
// convergence.
function antiEntropyBoundMs(pushPullIntervalMs: number): number {
  return 2 * 2 * pushPullIntervalMs;
}

describe('convergence', () => {
  for (const nodes of [5, 50]) {
    it(`${nodes} members joining through one seed all see each other alive`, () => {
      const { events, metrics, config } = simulate({ seed: 7, nodes, durationMs: 300_000, stopWhen: 'converged' });

      expect(metrics.convergeMs).not.toBeNull();
      expect(metrics.convergeMs).toBeLessThanOrEqual(antiEntropyBoundMs(config.pushPullIntervalMs));
      const names = memberNames(nodes);
      for (const about of names) {
        const last = lastEventAbout(events, about);
        for (const observer of names) {
          if (observer === about) continue;
          expect(last.get(observer)?.state, `${observer} about ${about}`).toBe('alive');
        }
      }
      expect(metrics.falsePositives).toBe(0);
      expect(metrics.falseSuspicions).toBe(0);
    });
  }

  it('500 members joining through one seed all see each other alive', () => {
    const { metrics, config } = simulate({
      seed: 11,
      nodes: 500,
      durationMs: 300_000,
      stopWhen: 'converged',
      recordEvents: false,
    });

    expect(metrics.convergeMs).not.toBeNull();
    expect(metrics.convergeMs).toBeLessThanOrEqual(antiEntropyBoundMs(config.pushPullIntervalMs));
    expect(metrics.allAliveAtEnd).toBe(true);
    expect(metrics.runningAtEnd).toBe(500);
    // Every member reported every other one joining at least once.
    expect(metrics.eventCount).toBeGreaterThanOrEqual(500 * 499);
    expect(metrics.falsePositives).toBe(0);
  });

  it('a storm of 2,000 joins converges long before the first anti-entropy round (catch-up pulls)', () => {
    // 2,000 members joining 2 ms apart, as `npm run bench -- sim` starts them. Members that
    // join late learn the table from the seed and do not gossip it again, so news of a
    // mid-storm joiner has few spreaders and waits behind newer news: early joiners used to
    // miss some of them until their first anti-entropy round, at a random point of the scaled
    // interval (7 x 30 s at this size), and the cluster converged after 151 s. Early joiners
    // now pull whole tables once the storm has passed them (core/sync.cc, "Catching up"):
    // 23.4 s when a pull waited for total silence, 14.3 s since it waits only for the news
    // to slow down and any fruitful SYNC starts the chain. The storm itself lasts 4 s.
    const { metrics, config } = simulate({
      seed: 1,
      nodes: 2000,
      joinSpreadMs: 4000,
      threads: 2,
      durationMs: 300_000,
      stopWhen: 'converged',
      recordEvents: false,
    });
    expect(metrics.convergeMs).not.toBeNull();
    expect(metrics.convergeMs).toBeLessThanOrEqual(20_000);
    expect(config.pushPullIntervalMs).toBeGreaterThan(20_000);
    expect(metrics.falsePositives).toBe(0);
  }, 120_000);

  it('members that start one after another and join through earlier members converge', () => {
    const { metrics } = simulate({
      seed: 3,
      nodes: 50,
      joinMode: 'staggered',
      joinSpreadMs: 10_000,
      durationMs: 300_000,
      stopWhen: 'converged',
    });

    expect(metrics.convergeMs).not.toBeNull();
    // It cannot converge before the last member has even started.
    expect(metrics.convergeMs).toBeGreaterThanOrEqual((10_000 * 49) / 50);
    expect(metrics.allAliveAtEnd).toBe(true);
    expect(metrics.falsePositives).toBe(0);
  });
});
