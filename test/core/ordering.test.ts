// SWIM §4.2 update ordering by (incarnation, state), refutation, conflicts and the order of
// events, each through one engine fed hand-made messages.
import { describe, expect, it } from 'vitest';
import { addressOf, alive, codec, dead, leave, type Msg, messagesOf, suspect, TestEngine } from './harness';

type State = 'alive' | 'suspect' | 'dead' | 'left';

/** An engine that knows b in `state` at incarnation 5, and the virtual time it got there. */
function engineWithB(state: State): { a: TestEngine; now: number } {
  const a = new TestEngine('a');
  a.tick(0);
  a.learn(['c', 'd'], 0);
  a.receive('b', [alive('b', 5n)], 1);
  let now = 2;
  if (state === 'suspect') a.receive('c', [suspect('b', 5n, 'c')], 2);
  if (state === 'dead') now = a.outliveSuspicion('b', 5n, 'c', 2);
  if (state === 'left') a.receive('b', [leave('b', 5n)], 2);
  a.drain();
  expect(a.state('b')).toBe(state);
  return { a, now };
}

const msg = {
  alive: (inc: bigint) => alive('b', inc),
  suspect: (inc: bigint) => suspect('b', inc, 'd'),
  dead: (inc: bigint) => dead('b', inc, 'd'),
  leave: (inc: bigint) => leave('b', inc),
};

// [state before, message, its incarnation, state after, incarnation after, event or null]
const table: [State, keyof typeof msg, bigint, State, bigint, string | null][] = [
  ['alive', 'alive', 4n, 'alive', 5n, null],
  ['alive', 'alive', 5n, 'alive', 5n, null],
  ['alive', 'alive', 6n, 'alive', 6n, null],
  ['alive', 'suspect', 4n, 'alive', 5n, null],
  ['alive', 'suspect', 5n, 'suspect', 5n, 'suspect'],
  ['alive', 'suspect', 6n, 'suspect', 6n, 'suspect'],
  ['alive', 'dead', 4n, 'alive', 5n, null],
  // Issue 5: a DEAD from another member is an accusation, not a verdict: it starts our own
  // suspicion (or confirms the one we hold), and only our timer makes the member dead.
  ['alive', 'dead', 5n, 'suspect', 5n, 'suspect'],
  ['alive', 'dead', 6n, 'suspect', 6n, 'suspect'],
  ['alive', 'leave', 4n, 'alive', 5n, null],
  ['alive', 'leave', 5n, 'left', 5n, 'leave'],
  ['suspect', 'alive', 5n, 'suspect', 5n, null],
  ['suspect', 'alive', 6n, 'alive', 6n, 'alive'],
  // A newer incarnation means the member refuted the suspicion we held: this is a new one,
  // with its own timer, and reported as such.
  ['suspect', 'suspect', 6n, 'suspect', 6n, 'suspect'],
  ['suspect', 'dead', 5n, 'suspect', 5n, null],
  ['suspect', 'leave', 5n, 'left', 5n, 'leave'],
  ['dead', 'alive', 5n, 'dead', 5n, null],
  ['dead', 'alive', 6n, 'alive', 6n, 'alive'],
  ['dead', 'suspect', 6n, 'dead', 5n, null],
  ['dead', 'dead', 6n, 'dead', 5n, null],
  ['dead', 'leave', 5n, 'left', 5n, 'leave'],
  ['left', 'alive', 5n, 'left', 5n, null],
  ['left', 'alive', 6n, 'alive', 6n, 'join'],
  ['left', 'suspect', 6n, 'left', 5n, null],
  ['left', 'dead', 6n, 'left', 5n, null],
  ['left', 'leave', 6n, 'left', 5n, null],
];

describe('ordering by (incarnation, state)', () => {
  it.each(table)('%s@5 + %s@%s -> %s@%s (event: %s)', (before, kind, inc, after, incAfter, event) => {
    const { a, now } = engineWithB(before);
    a.receive('d', [msg[kind](inc)], now + 10);
    expect(a.member('b')).toMatchObject({ state: after, incarnation: incAfter });
    const events = a.drain().events.map((e) => e.kind);
    expect(events).toEqual(event ? [event] : []);
  });

  it('an ALIVE at a higher incarnation with new metadata is an update event carrying the new record', () => {
    const { a } = engineWithB('alive');
    a.receive('b', [alive('b', 6n, { tags: { zone: 'b', role: 'db' } })], 10);
    const events = a.drain().events;
    expect(events).toMatchObject([{ kind: 'update', name: 'b', incarnation: 6n }]);
    expect(events[0]?.record.tags).toEqual({ zone: 'b', role: 'db' });
    expect(a.member('b')?.record.tags).toEqual({ zone: 'b', role: 'db' });
  });

  it('every accepted change is queued for gossip; a stale message is not', () => {
    const { a } = engineWithB('alive');
    a.runAnswering(10, 20000); // let the queue drain
    expect(a.native.pendingBroadcasts()).toBe(0);
    a.receive('d', [msg.suspect(4n)], 20001);
    expect(a.native.pendingBroadcasts()).toBe(0);
    a.receive('d', [msg.suspect(5n)], 20002);
    expect(a.native.pendingBroadcasts()).toBe(1);
  });
});

describe('refutation', () => {
  function fresh(): TestEngine {
    const a = new TestEngine('a');
    a.tick(0);
    a.learn(['b', 'c', 'd'], 0);
    return a;
  }

  function gossiped(a: TestEngine, from: number): Msg[] {
    return messagesOf(a.runUntil(from, from + 2000).datagrams, 'alive').filter((m) => m.member.name === 'a');
  }

  it('hearing itself suspected, a member raises its incarnation past the accusation and gossips ALIVE', () => {
    const a = fresh();
    a.receive('b', [suspect('a', 0n, 'b')], 10);
    expect(a.native.incarnation()).toBe(1n);
    a.receive('b', [suspect('a', 7n, 'b')], 11);
    expect(a.native.incarnation()).toBe(8n);
    const announced = gossiped(a, 11);
    expect(announced.length).toBeGreaterThan(0);
    expect(announced.every((m) => m.member.incarnation === 8n && m.member.state === 'alive')).toBe(true);
  });

  it('an accusation older than our incarnation needs no refutation', () => {
    const a = fresh();
    a.receive('b', [suspect('a', 0n, 'b')], 10);
    a.receive('b', [suspect('a', 0n, 'c'), dead('a', 0n, 'c')], 11);
    expect(a.native.incarnation()).toBe(1n);
    expect(a.counters().refutations).toBe(1);
  });

  it('a member that already refuted re-announces its ALIVE to a peer that still declares it dead, and the peer comes round without a SYNC', () => {
    // Timings pinned (not the profile's): with them b's own failed probe brings its suspicion
    // to the floor and b's DEAD gossip reaches a within the two seconds looked at below.
    const quiet = {
      pushPullIntervalMs: 0,
      reconnectIntervalMs: 0,
      probeIntervalMs: 1000,
      probeTimeoutMs: 500,
      suspicionConfirmations: 1,
    };
    const a = new TestEngine('a', { config: quiet });
    const b = new TestEngine('b', { seed: 2, config: quiet });
    a.tick(0);
    b.tick(0);
    a.learn(['b', 'c', 'd'], 0);
    b.learn(['a', 'c', 'd'], 0);
    // a is accused and refutes at incarnation 1; b misses all of it (we never deliver a's
    // packets to b) and its own suspicion of a at 0 runs out into a death.
    a.receive('c', [suspect('a', 0n, 'c')], 10);
    const diedAt = b.outliveSuspicion('a', 0n, 'c', 10);
    a.runAnswering(10, diedAt);
    expect(a.native.incarnation()).toBe(1n);
    expect(a.native.pendingBroadcasts()).toBe(0); // the refutation has run its course
    // b gossips the death to the recently dead, so a hears DEAD a@0: stale, since a is at 1.
    const fromB = b.runAnswering(diedAt, diedAt + 2000, ['a']);
    const news = fromB.datagrams.filter(
      (d) => d.to === 'a' && d.messages.some((m) => m.type === 'dead' && m.target === 'a' && m.incarnation === 0n),
    );
    expect(news.length).toBeGreaterThan(0);
    a.receive('b', news[0]?.messages ?? [], diedAt + 2000);
    expect(a.native.incarnation()).toBe(1n); // no new refutation is needed ...
    // ... but a announces its current ALIVE again, and its gossip reaches b.
    const fromA = a.runAnswering(diedAt + 2000, diedAt + 4000);
    const toB = fromA.datagrams.filter((d) => d.to === 'b');
    expect(toB.flatMap((d) => d.messages)).toContainEqual(
      expect.objectContaining({ type: 'alive', member: expect.objectContaining({ name: 'a', incarnation: 1n }) }),
    );
    for (const d of toB) b.receive('a', d.messages, diedAt + 4000);
    expect(b.member('a')).toMatchObject({ state: 'alive', incarnation: 1n });
    // (b's last probe of a, begun before the death, may have asked for a TCP ping: not a SYNC.)
    expect([...fromA.streams, ...fromB.streams].filter((s) => s.kind === 'sync')).toEqual([]);
  });

  it('a flood of stale accusations re-announces our ALIVE no more than one does', () => {
    const sentAlive = (accusations: number) => {
      const a = fresh();
      a.receive('b', [suspect('a', 0n, 'b')], 10);
      a.runAnswering(10, 20000); // the refutation (incarnation 1) runs its course
      for (let i = 0; i < accusations; i++) a.receive('c', [dead('a', 0n, 'c'), suspect('a', 0n, 'd')], 20000);
      const out = a.runAnswering(20000, 40000);
      return messagesOf(out.datagrams, 'alive').filter((m) => m.member.name === 'a').length;
    };
    const once = sentAlive(1);
    expect(once).toBeGreaterThan(0);
    expect(sentAlive(1000)).toBe(once);
    expect(sentAlive(0)).toBe(0);
  });

  it('a forged DEAD about a live member is refuted by that member', () => {
    const a = fresh();
    a.receive('b', [dead('a', 0n, 'mallory')], 10);
    expect(a.native.incarnation()).toBe(1n);
    expect(gossiped(a, 10).length).toBeGreaterThan(0);
  });

  it('a LEAVE in our name that we did not send is refuted', () => {
    const a = fresh();
    a.receive('b', [leave('a', 0n)], 10);
    expect(a.native.incarnation()).toBe(1n);
    expect(a.native.hasLeft()).toBe(false);
  });

  it('a member we think dead that pings us is told so in our ack, so it can refute', () => {
    const a = fresh();
    const diedAt = a.outliveSuspicion('b', 0n, 'c', 10);
    a.receive('b', [{ type: 'ping', seq: 9, source: 'b', target: 'a' }], diedAt + 10);
    const reply = a.drain().datagrams.find((d) => d.to === 'b');
    expect(reply?.messages.slice(0, 2)).toEqual([
      { type: 'ack', seq: 9, source: 'a' },
      { type: 'dead', incarnation: 0n, target: 'b', from: 'a' },
    ]);
  });

  it('a restarted member (same name and address, lower incarnation) wins its name back by refuting higher', () => {
    const a = new TestEngine('a'); // restarted: incarnation 0, new id
    a.tick(0);
    a.native.join([{ address: addressOf('s'), port: 7946 }], 0);
    const join = a.drain().streams[0];
    // The cluster remembers the previous process: dead at incarnation 7.
    const previous = { ...alive('a', 7n).member, id: 999n, state: 'dead' };
    const reply = codec.encodeFrame({
      type: 'sync_response',
      join: true,
      members: [alive('s', 0n).member, previous],
    });
    expect(a.native.streamResponse(join?.id, reply, 10)).toBe(true);
    expect(a.native.incarnation()).toBe(8n);
    // It tells the seed straight away (the seed would not gossip to a member it thinks dead).
    const out = a.drain();
    const toSeed = out.datagrams.filter((d) => d.to === 's').flatMap((d) => d.messages);
    expect(toSeed).toContainEqual(
      expect.objectContaining({ type: 'alive', member: expect.objectContaining({ name: 'a', incarnation: 8n }) }),
    );
  });
});

describe('conflicts', () => {
  it('the same name from a different address while the member is alive is refused and reported once', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.receive('b', [alive('b', 1n)], 1);
    a.drain();
    const impostor = alive('b', 2n, { address: '192.168.9.9', id: 4242n });
    a.receive('x', [impostor], 10);
    a.receive('y', [impostor], 11);
    const events = a.drain().events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'conflict', name: 'b', incarnation: 2n });
    expect(events[0]?.record).toMatchObject({ address: '192.168.9.9', id: 4242n });
    expect(a.member('b')).toMatchObject({ state: 'alive', incarnation: 1n });
    expect(a.member('b')?.record.address).toBe(addressOf('b'));
    expect(a.counters().conflicts).toBe(2);
  });

  it('once the member is dead, its name may come back from a new address', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.receive('b', [alive('b', 1n)], 1);
    const diedAt = a.outliveSuspicion('b', 1n, 'c', 2);
    a.receive('x', [alive('b', 2n, { address: '192.168.9.9' })], diedAt + 10);
    expect(a.drain().events).toMatchObject([{ kind: 'alive', name: 'b' }]);
    expect(a.member('b')?.record.address).toBe('192.168.9.9');
  });

  it('another process claiming our own name from elsewhere is reported, not fought', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.receive('x', [alive('a', 5n, { address: '192.168.9.9' })], 10);
    expect(a.drain().events).toMatchObject([{ kind: 'conflict', name: 'a' }]);
    expect(a.native.incarnation()).toBe(0n);
  });
});

describe('events', () => {
  it('come out with the member record, in the order the changes happened', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.receive('b', [alive('b', 0n)], 1);
    a.receive('c', [suspect('b', 0n, 'c')], 2);
    a.receive('b', [alive('b', 1n)], 3);
    a.receive('b', [alive('b', 2n, { tags: { zone: 'z' } })], 4);
    a.receive('c', [dead('b', 2n, 'c'), alive('e', 0n)], 5); // a DEAD is a suspicion (issue 5)
    a.receive('b', [leave('b', 2n)], 6);
    a.receive('x', [alive('e', 1n, { address: '192.168.9.9' })], 7);
    const events = a.drain().events;
    expect(events.map((e) => [e.kind, e.name, e.at])).toEqual([
      ['join', 'b', 1],
      ['suspect', 'b', 2],
      ['alive', 'b', 3],
      ['update', 'b', 4],
      ['suspect', 'b', 5],
      ['join', 'e', 5],
      ['leave', 'b', 6],
      ['conflict', 'e', 7],
    ]);
    expect(events[3]?.record).toMatchObject({ name: 'b', incarnation: 2n, tags: { zone: 'z' } });
    expect(events.map((e) => e.state)).toEqual([
      'alive',
      'suspect',
      'alive',
      'alive',
      'suspect',
      'alive',
      'left',
      'alive',
    ]);
  });

  it('are not reported about ourselves, except a conflict over our name', () => {
    const a = new TestEngine('a');
    a.tick(0);
    a.receive('b', [suspect('a', 0n, 'b'), dead('a', 1n, 'b')], 1);
    expect(a.drain().events).toEqual([]);
  });
});
