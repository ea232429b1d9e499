// Leaving (LEAVE -> `left`, distinct from dead), force-leave, metadata updates, and tombstones
// reaped after their period.
import { describe, expect, it } from 'vitest';
import { alive, dead, leave, messagesOf, suspect, TestEngine } from './harness';

const resources = {
  maxInstances: 8,
  currentInstances: 2,
  cpuTotalMilli: 4000,
  cpuAvailableMilli: 1500,
  ramTotalMb: 8192,
  ramAvailableMb: 1024,
};

describe('leave', () => {
  it('gossips a LEAVE at our incarnation, stops probing, and completes once it has been sent enough', () => {
    const a = new TestEngine('a', { config: { leavePropagateMs: 60000 } });
    a.tick(0);
    a.learn(['b', 'c', 'd'], 0);
    a.runAnswering(0, 20000);
    a.native.leave(20000);
    expect(a.native.hasLeft()).toBe(true);
    expect(a.native.leaveComplete()).toBe(false);
    const out = a.runAnswering(20000, 40000);
    expect(messagesOf(out.datagrams, 'ping')).toEqual([]);
    const leaves = messagesOf(out.datagrams, 'leave');
    expect(leaves).toContainEqual({ type: 'leave', incarnation: 0n, name: 'a' });
    expect(leaves).toHaveLength(4); // retransmit limit for 4 members
    expect(a.native.leaveComplete()).toBe(true);
  });

  it('completes after leavePropagateMs even if nobody could be told', () => {
    const a = new TestEngine('a', { config: { leavePropagateMs: 3000, gossipNodes: 0 } });
    a.tick(0);
    a.learn(['b'], 0);
    a.native.leave(10);
    a.runUntil(10, 3009);
    expect(a.native.leaveComplete()).toBe(false);
    a.runUntil(3009, 3010);
    expect(a.native.leaveComplete()).toBe(true);
  });

  it('after leaving, accusations against us are no longer refuted and updates are refused', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.native.leave(1);
    a.receive('b', [suspect('a', 0n, 'b'), dead('a', 0n, 'b')], 2);
    expect(a.native.incarnation()).toBe(0n);
    expect(a.native.updateLocal(resources, {}, 3)).toBe('left');
  });

  it('a LEAVE makes the member left (a leave event), not dead', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.learn(['b'], 0);
    a.receive('b', [leave('b', 0n)], 5);
    expect(a.drain().events).toMatchObject([{ kind: 'leave', name: 'b', state: 'left' }]);
    expect(a.state('b')).toBe('left');
    expect(a.native.count('left')).toBe(1);
    expect(a.native.count('dead')).toBe(0);
  });
});

describe('force leave', () => {
  it('turns a dead or suspect member into left and gossips the LEAVE on its behalf', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.learn(['b', 'c', 'd'], 0);
    const now = a.outliveSuspicion('b', 0n, 'c', 1);
    a.receive('c', [suspect('d', 0n, 'c')], now);
    a.drain();
    expect(a.state('b')).toBe('dead');
    expect(a.native.forceLeave('b', now + 1)).toBe(true);
    expect(a.native.forceLeave('d', now + 1)).toBe(true);
    expect(a.drain().events.map((e) => [e.kind, e.name])).toEqual([
      ['leave', 'b'],
      ['leave', 'd'],
    ]);
    const out = a.runUntil(now + 1, now + 3000);
    expect(messagesOf(out.datagrams, 'leave').map((m) => m.name)).toContain('b');
  });

  it('refuses alive, unknown and already-left members, and ourselves', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.learn(['b'], 0);
    expect(a.native.forceLeave('b', 1)).toBe(false);
    expect(a.native.forceLeave('nobody', 1)).toBe(false);
    expect(a.native.forceLeave('a', 1)).toBe(false);
    a.receive('b', [leave('b', 0n)], 2);
    expect(a.native.forceLeave('b', 3)).toBe(false);
  });
});

describe('metadata update', () => {
  it('raises the incarnation and gossips the new record', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.learn(['b', 'c'], 0);
    a.runAnswering(0, 10000);
    expect(a.native.updateLocal(resources, { role: 'db' }, 10000)).toBe('none');
    expect(a.native.incarnation()).toBe(1n);
    const out = a.runAnswering(10000, 12000);
    const sent = messagesOf(out.datagrams, 'alive').filter((m) => m.member.name === 'a');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent[0]?.member).toMatchObject({
      incarnation: 1n,
      tags: { role: 'db' },
      resources: { cpuAvailableMilli: 1500, ramAvailableMb: 1024n },
    });
  });
});

describe('tombstones', () => {
  it('dead members are kept for deadReapMs and left members for leftReapMs, then removed', () => {
    const a = new TestEngine('a', { config: { deadReapMs: 8000, leftReapMs: 16000 } });
    a.tick(0);
    a.learn(['b', 'c', 'd'], 0);
    const t = a.outliveSuspicion('b', 0n, 'd', 100);
    a.receive('c', [leave('c', 0n)], t);
    a.runAnswering(t, t + 7999, ['b', 'c']);
    expect(a.state('b')).toBe('dead');
    // Reaping is checked every eighth of the shortest period (1 s here).
    a.runAnswering(t + 7999, t + 9000, ['b', 'c']);
    expect(a.native.member('b')).toBeNull();
    expect(a.state('c')).toBe('left');
    a.runAnswering(t + 9000, t + 17000, ['b', 'c']);
    expect(a.native.member('c')).toBeNull();
    expect(a.counters().membersReaped).toBe(2);
    expect(a.native.members().map((m: { name: string }) => m.name)).toEqual(['a', 'd']);
    expect(a.native.count('dead') + a.native.count('left')).toBe(0);
  });

  it('after reaping, probing and lookups still work for the members that remain', () => {
    const a = new TestEngine('a', { config: { deadReapMs: 2000, leftReapMs: 2000 } });
    a.tick(0);
    const names = Array.from({ length: 20 }, (_, i) => `m${i}`);
    a.learn(names, 0);
    a.receive('m1', [dead('m3', 0n, 'm1'), dead('m7', 0n, 'm1'), leave('m12', 0n)], 10);
    a.drain();
    const out = a.runAnswering(10, 30000, ['m3', 'm7', 'm12']);
    // The DEADs were accusations (issue 5): our own suspicions end them, then they are reaped.
    expect(out.events.map((e) => `${e.kind} ${e.name}`).sort()).toEqual(['dead m3', 'dead m7']);
    for (const n of names) {
      if (['m3', 'm7', 'm12'].includes(n)) expect(a.native.member(n)).toBeNull();
      else expect(a.state(n)).toBe('alive');
    }
    // A reaped member that comes back is a new member again.
    a.receive('m3', [alive('m3', 1n)], 30001);
    expect(a.drain().events).toMatchObject([{ kind: 'join', name: 'm3' }]);
  });
});

describe('stalls (the host stopped driving the engine: a GC pause, SIGSTOP)', () => {
  it('timers that ran out meanwhile do not convict: no suspicion from the stale probe, one more period for refutations', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.learn(['b', 'c', 'd', 'e'], 0);
    a.runAnswering(0, 2000);
    a.receive('d', [suspect('c', 0n, 'd')], 2000);
    a.drain();
    // Run on until a probe is in flight, then stop for 40 s (the suspicion of c expires meanwhile).
    let now = 2000;
    for (let i = 0; i < 100; i++) {
      now = a.native.nextDeadline();
      a.tick(now);
      if (messagesOf(a.drain().datagrams, 'ping').length > 0) break;
    }
    const resume = now + 40000;
    a.tick(resume);
    expect(a.counters().stalls).toBe(1);
    expect(a.drain().events).toEqual([]);
    // The refutation that was queued for us during the stall arrives now.
    a.receive('c', [alive('c', 1n)], resume);
    expect(a.drain().events).toMatchObject([{ kind: 'alive', name: 'c' }]);
    const after = a.runAnswering(resume, resume + 5000);
    expect(after.events).toEqual([]);
    expect(a.state('c')).toBe('alive');
  });

  it('without a refutation, the overdue suspicion still ends in death one period later', () => {
    const a = new TestEngine('a', { config: { probeIntervalMs: 1000, probeTimeoutMs: 500 } });
    a.tick(0);
    a.learn(['b', 'c', 'd', 'e'], 0);
    a.runAnswering(0, 2000);
    a.receive('d', [suspect('c', 0n, 'd')], 2000);
    a.drain();
    a.tick(60000);
    expect(a.drain().events).toEqual([]);
    const out = a.runAnswering(60000, 61000, ['c']);
    expect(out.events).toMatchObject([{ kind: 'dead', name: 'c', at: 61000 }]);
  });
});
