// Lifeguard IV.B, the dynamic suspicion timeout: the arithmetic, and how one engine applies
// it (expiry into dead, independent confirmations shortening it, refutation cancelling it).
import { describe, expect, it } from 'vitest';
import { addressOf, alive, codec, dead, engineModule, messagesOf, PORT, suspect, TestEngine } from './harness';

const timeouts = (n: number, confirmations: number, mult = 4, maxMult = 6, interval = 1000, k = 2) =>
  engineModule.suspicionTimeouts(mult, maxMult, k, interval, n, confirmations);

describe('suspicion timeout arithmetic', () => {
  it('min is suspicionMult x max(1, log10 n) x probe interval, max is suspicionMaxTimeoutMult x min', () => {
    expect(timeouts(10, 0)).toMatchObject({ minMs: 4000, maxMs: 24000 });
    expect(timeouts(1000, 0)).toMatchObject({ minMs: 12000, maxMs: 72000 });
    expect(timeouts(50, 0).minMs).toBe(Math.floor(4 * Math.log10(50) * 1000));
    // Below ten members the floor does not shrink further.
    expect(timeouts(5, 0)).toMatchObject({ minMs: 4000, maxMs: 24000 });
    expect(timeouts(10, 0, 3, 6, 200)).toMatchObject({ minMs: 600, maxMs: 3600 });
  });

  it('starts at max and shrinks toward min as confirmations arrive (k = suspicionConfirmations)', () => {
    expect(timeouts(10, 0)).toMatchObject({ k: 2, timeoutMs: 24000 });
    const oneConfirmation = Math.floor(24000 - (20000 * Math.log(2)) / Math.log(3));
    expect(timeouts(10, 1).timeoutMs).toBe(oneConfirmation);
    expect(timeouts(10, 2).timeoutMs).toBe(4000);
    expect(timeouts(10, 9).timeoutMs).toBe(4000);
    let previous = Number.POSITIVE_INFINITY;
    for (let c = 0; c <= 6; c++) {
      const t = timeouts(1000, c, 8, 6, 1000, 6).timeoutMs;
      expect(t).toBeLessThanOrEqual(previous);
      expect(t).toBeGreaterThanOrEqual(timeouts(1000, 0, 8, 6, 1000, 6).minMs);
      previous = t;
    }
  });

  it('expects no confirmations in a cluster too small to give them, and then uses min at once', () => {
    expect(timeouts(3, 0)).toMatchObject({ k: 0, timeoutMs: 4000 });
    expect(timeouts(4, 0)).toMatchObject({ k: 2, timeoutMs: 24000 });
  });

  it('k is its own setting, not derived from suspicionMult: 0 means the floor at once', () => {
    expect(timeouts(10, 0, 3, 6, 1000, 2)).toMatchObject({ k: 2, minMs: 3000, timeoutMs: 18000 });
    expect(timeouts(10, 1, 3, 6, 1000, 2).timeoutMs).toBeGreaterThan(3000);
    expect(timeouts(10, 2, 3, 6, 1000, 2).timeoutMs).toBe(3000);
    expect(timeouts(10, 0, 3, 6, 1000, 0)).toMatchObject({ k: 0, timeoutMs: 3000 });
  });
});

const others = ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'];

function engine(): TestEngine {
  const a = new TestEngine('a', { config: { probeIntervalMs: 1000, suspicionMult: 4, suspicionMaxTimeoutMult: 6 } });
  a.tick(0);
  a.learn(others, 0);
  return a;
}

describe('suspicion in the engine', () => {
  it('a SUSPECT from gossip starts the timer at max; unrefuted, the member is declared dead when it expires', () => {
    const a = engine();
    a.receive('c', [suspect('b', 0n, 'c')], 100);
    expect(a.drain().events).toMatchObject([{ kind: 'suspect', name: 'b' }]);
    const expected = timeouts(11, 0); // a + 10 others
    expect(a.native.suspicionDeadline('b')).toBe(100 + expected.maxMs);
    // b still answers our pings (so we add no confirmation of our own) but never refutes.
    const before = a.runAnswering(100, 100 + expected.maxMs - 1);
    expect(before.events.filter((e) => e.name === 'b')).toEqual([]);
    expect(a.state('b')).toBe('suspect');
    a.tick(100 + expected.maxMs);
    expect(a.drain().events.filter((e) => e.name === 'b')).toMatchObject([{ kind: 'dead', state: 'dead' }]);
    expect(a.counters().deaths).toBe(1);
  });

  it('an independent accuser shortens the timeout; the same accuser again does not', () => {
    const a = engine();
    a.receive('c', [suspect('b', 0n, 'c')], 100);
    const start = a.native.suspicionDeadline('b');
    a.receive('c', [suspect('b', 0n, 'c')], 200);
    expect(a.native.suspicionConfirmations('b')).toBe(0);
    expect(a.native.suspicionDeadline('b')).toBe(start);
    a.receive('d', [suspect('b', 0n, 'd')], 300);
    expect(a.native.suspicionConfirmations('b')).toBe(1);
    expect(a.native.suspicionDeadline('b')).toBe(100 + timeouts(11, 1).timeoutMs);
    a.receive('e', [suspect('b', 0n, 'e')], 400);
    expect(a.native.suspicionDeadline('b')).toBe(100 + timeouts(11, 0).minMs);
  });

  it('a new confirmation is gossiped on under the new accuser name, so others can count it', () => {
    const a = engine();
    a.receive('c', [suspect('b', 0n, 'c')], 100);
    a.drain();
    a.receive('d', [suspect('b', 0n, 'd')], 150);
    const out = a.runUntil(150, 1500);
    const suspects = out.datagrams.flatMap((d) => d.messages.filter((m) => m.type === 'suspect'));
    expect(suspects.length).toBeGreaterThan(0);
    expect(suspects.every((m) => m.from === 'd')).toBe(true);
  });

  it('a refutation (ALIVE with a higher incarnation) ends the suspicion: alive event, no death later', () => {
    const a = engine();
    a.receive('c', [suspect('b', 0n, 'c')], 100);
    a.drain();
    a.receive('b', [alive('b', 1n)], 500);
    expect(a.drain().events).toMatchObject([{ kind: 'alive', name: 'b', incarnation: 1n }]);
    expect(a.native.suspicionDeadline('b')).toBeNull();
    const later = a.runAnswering(500, 100 + timeouts(11, 0).maxMs + 1000);
    expect(later.events.filter((e) => e.name === 'b')).toEqual([]);
  });
});

describe('confirmation by our own probe', () => {
  it('a failed probe of a member someone else suspects confirms the suspicion and gossips it under our name', () => {
    const a = engine();
    a.receive('c', [suspect('b', 0n, 'c')], 100);
    a.drain();
    const initial = a.native.suspicionDeadline('b');
    // Everyone answers except b, so only b's probe fails.
    let confirmedAt = -1;
    let now = 100;
    const sent = [];
    for (let i = 0; i < 10000 && confirmedAt < 0; i++) {
      now = a.native.nextDeadline();
      if (now > 30000) break;
      a.tick(now);
      const out = a.drain();
      sent.push(...out.datagrams);
      for (const d of out.datagrams) {
        for (const m of d.messages) {
          if (m.type === 'ping' && m.target !== 'b') {
            a.receive(m.target, [{ type: 'ack', seq: m.seq, source: m.target }], now);
          }
        }
      }
      sent.push(...a.drain().datagrams);
      if (a.native.suspicionConfirmations('b') === 1) confirmedAt = now;
    }
    expect(confirmedAt).toBeGreaterThan(0);
    expect(a.native.suspicionDeadline('b')).toBeLessThan(initial);
    expect(a.native.suspicionDeadline('b')).toBe(100 + timeouts(11, 1).timeoutMs);
    const later = a.runAnswering(confirmedAt, confirmedAt + 1000, ['b']);
    const gossiped = [...sent, ...later.datagrams].flatMap((d) => d.messages).filter((m) => m.type === 'suspect');
    expect(gossiped).toContainEqual({ type: 'suspect', incarnation: 0n, target: 'b', from: 'a' });
  });
});

// Issue 5: "a member cannot be killed by someone else's word alone". A DEAD from another member
// used to end a member at once; now it is one more accusation in the suspicion process.
describe('a DEAD from another member', () => {
  // A DEAD says its sender's own suspicion ran out: it counts as all k confirmations (Lifeguard
  // IV.B), so our timeout starts at (or drops to) its floor, but never below it.
  it('about a member we see alive starts our suspicion at the floor, not a death', () => {
    const a = engine();
    a.receive('c', [dead('b', 0n, 'c')], 100);
    expect(a.drain().events).toMatchObject([{ kind: 'suspect', name: 'b', state: 'suspect' }]);
    expect(a.state('b')).toBe('suspect');
    expect(a.native.suspicionConfirmations('b')).toBe(timeouts(11, 0).k);
    expect(a.native.suspicionDeadline('b')).toBe(100 + timeouts(11, 0).minMs);
  });

  it('brings a suspicion we already hold to its floor, even when it comes from the first accuser', () => {
    const a = engine();
    a.receive('c', [suspect('b', 0n, 'c')], 100);
    expect(a.native.suspicionDeadline('b')).toBe(100 + timeouts(11, 0).maxMs);
    // c's suspicion ran out before ours: its DEAD is news even though c accused first.
    a.receive('c', [dead('b', 0n, 'c')], 2000);
    expect(a.native.suspicionDeadline('b')).toBe(100 + timeouts(11, 0).minMs);
    expect(a.state('b')).toBe('suspect');
  });

  it('kills only when our own timer runs out, and a refutation in the meantime saves the member', () => {
    const a = engine();
    a.receive('c', [dead('b', 0n, 'c')], 100);
    a.drain();
    const deadline = a.native.suspicionDeadline('b');
    expect(deadline).toBe(100 + timeouts(11, 0).minMs);
    const meanwhile = a.runAnswering(100, deadline - 1);
    expect(meanwhile.events.filter((e) => e.name === 'b')).toEqual([]);
    expect(a.state('b')).toBe('suspect');
    a.receive('b', [alive('b', 1n)], deadline - 1);
    expect(a.drain().events).toMatchObject([{ kind: 'alive', name: 'b', incarnation: 1n }]);
    const later = a.runAnswering(deadline - 1, deadline + 60000);
    expect(later.events.filter((e) => e.name === 'b')).toEqual([]);
    expect(a.state('b')).toBe('alive');
  });

  it('unrefuted, ends in a death at the suspicion deadline, which we then gossip as DEAD under our name', () => {
    const a = engine();
    a.receive('c', [dead('b', 0n, 'c')], 100);
    a.drain();
    const deadline = a.native.suspicionDeadline('b');
    // b answers our pings (a failed probe would add our own confirmation) but never refutes.
    const out = a.runAnswering(100, deadline + 2000);
    expect(out.events.filter((e) => e.name === 'b')).toMatchObject([{ kind: 'dead', at: deadline }]);
    expect(messagesOf(out.datagrams, 'dead')).toContainEqual({ type: 'dead', incarnation: 0n, target: 'b', from: 'a' });
  });

  it('in the name of its own target is ignored: a member announces its departure with LEAVE', () => {
    const a = engine();
    const ignored = a.counters().ignoredMessages;
    a.receive('b', [dead('b', 0n, 'b')], 100);
    expect(a.drain().events).toEqual([]);
    expect(a.state('b')).toBe('alive');
    expect(a.counters().ignoredMessages).toBe(ignored + 1);
  });
});

describe('telling the accused', () => {
  it("a suspicion started on another's word is sent to the accused, whose ACK carries its refutation", () => {
    const a = engine();
    const b = new TestEngine('b');
    b.tick(0);
    b.learn(['a', 'c'], 0);
    a.receive('c', [suspect('b', 0n, 'c')], 100);
    const raw = a.native.drain().datagrams.filter((d: { address: string }) => d.address === addressOf('b'));
    // One datagram: the accusation, our own ALIVE (so the answer may be as big), then a PING.
    expect(raw).toHaveLength(1);
    const notice = raw[0].bytes as Buffer;
    expect(codec.decode(notice).messages.map((m: { type: string }) => m.type)).toEqual(['suspect', 'alive', 'ping']);
    expect(a.counters().accusationsNotified).toBe(1);

    b.native.receive(addressOf('a'), PORT, notice, 100);
    const answer = b.drain().datagrams.filter((d) => d.to === 'a');
    expect(answer).toHaveLength(1);
    const [reply] = answer;
    expect(reply?.messages.map((m) => m.type)).toEqual(['ack', 'alive']);
    expect(reply?.bytes).toBeLessThanOrEqual(notice.length); // never more than was asked
    expect(b.counters().refutations).toBe(1);
    expect(reply?.messages[1]?.member).toMatchObject({ name: 'b', incarnation: 1n });

    a.native.receive(addressOf('b'), PORT, codec.encode(reply?.messages ?? []), 101);
    expect(a.state('b')).toBe('alive');
    expect(a.member('b')?.incarnation).toBe(1n);
  });

  it('a suspicion our own unanswered probes started sends no notice (the accused did not answer us)', () => {
    const a = engine();
    // Nobody answers: every probe fails and its target becomes suspect on our own word.
    let now = 0;
    while (a.counters().suspicions === 0 && now < 60_000) {
      now = a.native.nextDeadline();
      a.tick(now);
      a.drain();
    }
    expect(a.counters().suspicions).toBeGreaterThan(0);
    expect(a.counters().accusationsNotified).toBe(0);
  });
});
