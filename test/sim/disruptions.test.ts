// Pauses, partitions, restarts, metadata updates and leaves in the simulator (virtual time):
// the cluster rides them out and comes back to everyone alive without help.
import { describe, expect, it } from 'vitest';
import { actionAt, disseminationMs, memberNames, observersWith, simulate, suspicionBoundsMs } from './sim-helpers';

const NODES = 50;

describe('pauses', () => {
  it('a 3 s pause under lan kills no one', () => {
    const { events, metrics } = simulate({
      seed: 4,
      nodes: NODES,
      actionsFrom: 'converged',
      actions: [
        { at: 5_000, kind: 'pause', members: ['n7'] },
        { at: 8_000, kind: 'resume', members: ['n7'] },
      ],
      durationMs: 120_000,
    });

    expect(metrics.actions.every((a) => a.ran)).toBe(true);
    expect(events.filter((e) => e.state === 'dead')).toEqual([]);
    expect(metrics.falsePositives).toBe(0);
    expect(metrics.allAliveAtEnd).toBe(true);
  });

  it('a 30 s pause leads to suspicion or death, then to the member alive everywhere again on resume', () => {
    const { events, metrics, config } = simulate({
      seed: 4,
      nodes: NODES,
      actionsFrom: 'converged',
      actions: [
        { at: 5_000, kind: 'pause', members: ['n7'] },
        { at: 35_000, kind: 'resume', members: ['n7'] },
      ],
      stopWhen: 'allAlive',
      durationMs: 300_000,
    });
    const pausedAt = actionAt(metrics, 0);
    const resumedAt = actionAt(metrics, 1);
    const resume = metrics.actions[1];

    const accused = new Set([
      ...observersWith(events, 'n7', 'suspect', pausedAt, resumedAt),
      ...observersWith(events, 'n7', 'dead', pausedAt, resumedAt),
    ]);
    expect(accused.size).toBe(NODES - 1);
    // On resume it reads its buffered packets, learns it is suspected or dead and refutes
    // (SWIM §4.2) — alive everywhere within one dissemination.
    expect(resume?.allAliveAfterMs).not.toBeNull();
    expect(resume?.allAliveAfterMs ?? Infinity).toBeLessThanOrEqual(disseminationMs(NODES, config));
    const last = events.filter((e) => e.about === 'n7').at(-1);
    expect(last?.state).toBe('alive');
    expect(last?.incarnation).toBeGreaterThan(0);
  });
});

describe('partitions', () => {
  it('a 50/50 partition of 60 s heals on its own within a bounded time, with no call to join', () => {
    const names = memberNames(NODES);
    const { events, metrics, config } = simulate({
      seed: 2,
      nodes: NODES,
      actionsFrom: 'converged',
      actions: [
        { at: 5_000, kind: 'partition', groups: [names.slice(0, 25), names.slice(25)] },
        { at: 65_000, kind: 'heal' },
      ],
      stopWhen: 'allAlive',
      durationMs: 600_000,
    });
    const partitionedAt = actionAt(metrics, 0);
    const healedAt = actionAt(metrics, 1);
    const heal = metrics.actions[1];

    // During the partition the halves lose each other and only each other.
    const during = events.filter((e) => e.at > partitionedAt && e.at <= healedAt && e.state !== 'alive');
    expect(during.length).toBeGreaterThan(0);
    const side = (name: string) => (Number(name.slice(1)) < 25 ? 'a' : 'b');
    expect(during.filter((e) => side(e.member) === side(e.about))).toEqual([]);

    // Healing: within one reconnect interval someone retries a dead member across the former
    // partition (serf's reconnect); that SYNC merges both tables and the refutations spread.
    // A refutation that misses someone is repaired at the latest when that member's own
    // suspicion expires, so the bound is reconnect + suspicion max + dissemination.
    const { max } = suspicionBoundsMs(NODES, config);
    expect(heal?.allAliveAfterMs).not.toBeNull();
    expect(heal?.allAliveAfterMs ?? Infinity).toBeLessThanOrEqual(
      config.reconnectIntervalMs + max + disseminationMs(NODES, config),
    );
    expect(metrics.allAliveAtEnd).toBe(true);
  });
});

describe('restarts, updates and leaves', () => {
  it('a crashed member restarted with the same name is alive everywhere within a bounded time', () => {
    const { events, metrics, config } = simulate({
      seed: 3,
      nodes: NODES,
      actionsFrom: 'converged',
      actions: [
        { at: 5_000, kind: 'crash', members: ['n9'] },
        { at: 65_000, kind: 'restart', members: ['n9'] },
      ],
      stopWhen: 'allAlive',
      durationMs: 300_000,
    });
    const restartedAt = actionAt(metrics, 1);
    const restart = metrics.actions[1];

    // Seen dead before the restart...
    expect(observersWith(events, 'n9', 'dead', 0, restartedAt).size).toBe(NODES - 1);
    // ...then the new process joins through the seed, hears it is dead at the old incarnation
    // and refutes above it: alive everywhere after one SYNC and one dissemination.
    expect(restart?.allAliveAfterMs).not.toBeNull();
    expect(restart?.allAliveAfterMs ?? Infinity).toBeLessThanOrEqual(disseminationMs(NODES, config));
    const after = events.filter((e) => e.about === 'n9' && e.at >= restartedAt);
    expect(new Set(after.filter((e) => e.state === 'alive').map((e) => e.member)).size).toBe(NODES - 1);
    expect(Math.min(...after.map((e) => e.incarnation))).toBeGreaterThan(0);
    expect(metrics.falsePositives).toBe(0);
  });

  it('a metadata update reaches every member', () => {
    const { events, metrics, config } = simulate({
      seed: 2,
      nodes: NODES,
      actionsFrom: 'converged',
      actions: [
        {
          at: 5_000,
          kind: 'update',
          members: ['n3'],
          value: { tags: { role: 'db' }, resources: { maxInstances: 4, cpuTotalMilli: 8000 } },
        },
      ],
      durationMs: 60_000,
    });
    const updatedAt = actionAt(metrics, 0);

    const updates = events.filter((e) => e.about === 'n3' && e.kind === 'update' && e.at >= updatedAt);
    expect(new Set(updates.map((e) => e.member)).size).toBe(NODES - 1);
    for (const event of updates) {
      expect(event.tags).toEqual({ role: 'db' });
      expect(event.incarnation).toBeGreaterThan(0);
      expect(event.at - updatedAt).toBeLessThanOrEqual(disseminationMs(NODES, config));
    }
  });

  it('a leave is seen as left, not dead, by every member', () => {
    const { events, metrics } = simulate({
      seed: 2,
      nodes: NODES,
      actionsFrom: 'converged',
      actions: [{ at: 5_000, kind: 'leave', members: ['n30'] }],
      durationMs: 120_000,
    });
    const leftAt = actionAt(metrics, 0);

    const about = events.filter((e) => e.about === 'n30' && e.at >= leftAt);
    expect(new Set(about.filter((e) => e.kind === 'leave' && e.state === 'left').map((e) => e.member)).size).toBe(
      NODES - 1,
    );
    expect(about.filter((e) => e.state === 'dead' || e.state === 'suspect')).toEqual([]);
    // The member stopped once its leave had spread; the rest still see each other alive.
    expect(metrics.runningAtEnd).toBe(NODES - 1);
    expect(metrics.allAliveAtEnd).toBe(true);
    expect(metrics.falsePositives).toBe(0);
  });
});
