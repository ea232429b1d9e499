// Ten clusters in one process on 127.0.0.1-10, talking over real UDP and TCP sockets with
// tightened timings (helpers.ts FAST). Protocol timing itself is tested in the simulator; this
// file proves the runtime carries it: convergence, detection, leave, updates, event order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, ClusterEvent } from '../../src/index';
import { addressOf, allSee, startGroup, stateOf, waitFor } from './helpers';

const COUNT = 10;

describe('ten clusters in one process', () => {
  let clusters: Cluster[] = [];
  const names = Array.from({ length: COUNT }, (_, i) => `m${i}`);
  // Every event each cluster emitted, in delivery order, from the start.
  const seen = new Map<string, ClusterEvent[]>();
  const byName = new Map<string, Cluster>();
  const iterated: ClusterEvent[] = [];
  let iteration: Promise<void> | undefined;
  const stopIterating = new AbortController();

  beforeAll(async () => {
    clusters = await startGroup(COUNT);
    for (const c of clusters) {
      const list: ClusterEvent[] = [];
      seen.set(c.local.name, list);
      byName.set(c.local.name, c);
      c.on('event', (event) => list.push(event));
    }
    // The async iterator of one cluster sees the same events as its listener.
    const observer = clusters[1] as Cluster;
    iteration = (async () => {
      for await (const event of observer.events({ signal: stopIterating.signal })) iterated.push(event);
    })();
    const seed = addressOf(clusters[0] as Cluster);
    await Promise.all(clusters.slice(1).map((c) => c.join([seed])));
  });

  afterAll(async () => {
    stopIterating.abort();
    await iteration;
    await Promise.all(clusters.map((c) => c.shutdown()));
  });

  it('converges: every member sees all ten alive', async () => {
    await waitFor('all ten see all ten alive', () => allSee(clusters, names, 'alive'));
    for (const c of clusters) {
      expect(
        c
          .members({ state: 'alive' })
          .map((m) => m.name)
          .sort(),
      ).toEqual([...names].sort());
      expect(c.stats().alive).toBe(COUNT);
    }
  });

  it('spreads a metadata update to every member, with an update event', async () => {
    const subject = clusters[3] as Cluster;
    const before = subject.local.incarnation;
    await subject.update({ resources: { cpuTotal: 4, cpuAvailable: 1.5, maxInstances: 8 }, tags: { role: 'api' } });
    expect(subject.local.incarnation).toBeGreaterThan(before);
    await waitFor('everyone sees m3 with role api', () =>
      clusters.every((c) => c.member('m3')?.tags.role === 'api' && c.member('m3')?.resources.cpuAvailable === 1.5),
    );
    const others = clusters.filter((c) => c !== subject);
    await waitFor('an update event for m3 at every other member', () =>
      others.every((c) => seen.get(c.local.name)?.some((e) => e.type === 'update' && e.member.name === 'm3')),
    );
    // The filters read the new record.
    for (const c of clusters) {
      expect(c.members({ tags: { role: 'api' } }).map((m) => m.name)).toEqual(['m3']);
      expect(c.members({ minCpuAvailable: 1 }).map((m) => m.name)).toEqual(['m3']);
      expect(c.members({ minFreeInstances: 1 }).map((m) => m.name)).toEqual(['m3']);
    }
  });

  it('hands back the same frozen member objects until a member changes', async () => {
    const observer = clusters[0] as Cluster;
    const first = observer.members();
    const second = observer.members();
    expect(second).not.toBe(first); // a fresh array the caller may change
    expect(second).toEqual(first);
    second.forEach((m, i) => {
      expect(m).toBe(first[i]);
      expect(Object.isFrozen(m) && Object.isFrozen(m.resources) && Object.isFrozen(m.tags)).toBe(true);
    });
    expect(observer.member('m5')).toBe(first.find((m) => m.name === 'm5'));
    await (clusters[5] as Cluster).update({ tags: { changed: 'yes' } });
    await waitFor('m0 sees the new tags of m5', () => observer.member('m5')?.tags.changed === 'yes');
    const third = observer.members();
    for (const m of third) {
      const before = first.find((f) => f.name === m.name);
      if (m.name === 'm5') expect(m).not.toBe(before);
      else expect(m).toBe(before);
    }
  });

  it('detects a member shut down without leaving as dead at every other member', async () => {
    const victim = clusters[9] as Cluster;
    await victim.shutdown();
    const rest = clusters.slice(0, 9);
    // The table is published before the batch of events crosses to JavaScript, so wait for
    // the events, then check the tables agree.
    const lastEvent = (c: Cluster, name: string) => seen.get(c.local.name)?.findLast((e) => e.member.name === name);
    await waitFor('a dead event for m9 at everyone', () => rest.every((c) => lastEvent(c, 'm9')?.type === 'dead'));
    for (const c of rest) expect(stateOf(c, 'm9')).toBe('dead');
    for (const c of rest) {
      const types = (seen.get(c.local.name) ?? []).filter((e) => e.member.name === 'm9').map((e) => e.type);
      // Each observer either suspected it first or learned the death by gossip.
      expect(types.at(-1)).toBe('dead');
      expect(types.filter((t) => t === 'dead')).toHaveLength(1);
    }
  });

  it('shows a member that leaves as left, not dead, at every other member', async () => {
    const leaver = clusters[8] as Cluster;
    await leaver.leave();
    expect(leaver.running).toBe(false);
    const rest = clusters.slice(0, 8);
    const lastEvent = (c: Cluster, name: string) => seen.get(c.local.name)?.findLast((e) => e.member.name === name);
    await waitFor('a leave event for m8 at everyone', () => rest.every((c) => lastEvent(c, 'm8')?.type === 'leave'));
    for (const c of rest) expect(stateOf(c, 'm8')).toBe('left');
    for (const c of rest) {
      const types = (seen.get(c.local.name) ?? []).filter((e) => e.member.name === 'm8').map((e) => e.type);
      expect(types).not.toContain('dead');
      expect(types.at(-1)).toBe('leave');
    }
  });

  it('delivers events in order: per member a valid history, times never going backwards', () => {
    // Which event types may follow the member's state: the engine's state machine as
    // observed from outside.
    const allowed: Record<string, readonly string[]> = {
      none: ['join'],
      alive: ['update', 'suspect', 'dead', 'leave', 'conflict'],
      suspect: ['alive', 'dead', 'leave', 'suspect', 'conflict'],
      dead: ['alive', 'join', 'leave', 'conflict'],
      left: ['join', 'alive', 'conflict'],
    };
    for (const [observer, events] of seen) {
      const state = new Map<string, string>();
      let last = 0;
      for (const e of events) {
        expect(e.at).toBeGreaterThanOrEqual(last);
        last = e.at;
        const name = e.member.name;
        const from = state.get(name) ?? 'none';
        expect(allowed[from], `${observer}: ${name} ${from} -> ${e.type}`).toContain(e.type);
        if (e.type !== 'conflict') state.set(name, e.member.state);
        expect(Object.isFrozen(e)).toBe(true);
        expect(Object.isFrozen(e.member)).toBe(true);
      }
      // The last event per member agrees with the table the observer shows now.
      const cluster = byName.get(observer);
      if (cluster?.running) {
        for (const [name, s] of state) expect(stateOf(cluster, name), `${observer} sees ${name}`).toBe(s);
      }
    }
    // The async iterator saw exactly what the listener saw.
    const listened = seen.get('m1') ?? [];
    expect(iterated.length).toBe(listened.length);
    expect(iterated.map((e) => `${e.type}:${e.member.name}`)).toEqual(
      listened.map((e) => `${e.type}:${e.member.name}`),
    );
  });
});
