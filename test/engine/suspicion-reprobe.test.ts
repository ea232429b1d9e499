// What a member does while it holds a suspicion, so that a refutation it missed still reaches
// it before its own timer runs out (docs/tuning.md, "False deaths at 20 % loss"): it probes an
// unconfirmed suspect again every period, the probe carries the accusation and our ALIVE
// before the PING, the suspect's ACK carries its ALIVE back, and an accusation at a newer
// incarnation is a new suspicion with its own full timeout.
import { describe, expect, it } from 'vitest';
import { alive, engineModule, type Msg, suspect, TestEngine } from '../core/harness';

const others = ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'];
const INTERVAL = 1000;

function engine(suspicionMult = 4, suspicionConfirmations = 2): TestEngine {
  const a = new TestEngine('a', {
    config: { probeIntervalMs: INTERVAL, suspicionMult, suspicionMaxTimeoutMult: 6, suspicionConfirmations },
  });
  a.tick(0);
  a.learn(others, 0);
  return a;
}

const pingsTo = (datagrams: { to: string; messages: Msg[] }[], target: string) =>
  datagrams.filter((d) => d.messages.some((m) => m.type === 'ping' && m.target === target));

describe('re-probing an unconfirmed suspicion', () => {
  it('a member holding an unconfirmed suspicion probes the suspect every period, telling it of the suspicion', () => {
    const a = engine();
    a.runAnswering(0, 10_000);
    a.receive('c', [suspect('b', 0n, 'c')], 10_000);
    a.drain();
    // b answers our pings but never refutes, so the suspicion stays and stays unconfirmed.
    const sent = a.runAnswering(10_000, 20_000);
    expect(a.state('b')).toBe('suspect');
    const probes = pingsTo(sent.datagrams, 'b');
    // The round-robin order alone reaches b once per round of 10 members; re-probing every
    // period reaches it in (nearly) each of the ten.
    expect(probes.length).toBeGreaterThanOrEqual(9);
    for (const probe of probes) {
      // Lifeguard IV.C: the accusation, then our ALIVE (which pays for an answer as big as
      // itself), then the PING, so the suspect has refuted by the time it writes the ACK.
      expect(probe.messages.slice(0, 3)).toMatchObject([
        { type: 'suspect', target: 'b', incarnation: 0n },
        { type: 'alive', member: { name: 'a' } },
        { type: 'ping', target: 'b' },
      ]);
    }
  });

  it('a suspicion confirmed by k independent accusers is left to its timer and not probed again', () => {
    // suspicionMult 8: k = 6 confirmations bring the timeout to its 8 s floor, long enough to
    // see that nothing is re-probed meanwhile.
    const a = engine(8, 6);
    a.runAnswering(0, 10_000);
    const accusers = ['c', 'd', 'e', 'f', 'g', 'h', 'i'];
    for (const [i, accuser] of accusers.entries()) a.receive(accuser, [suspect('b', 0n, accuser)], 10_000 + i);
    expect(a.native.suspicionConfirmations('b')).toBe(6);
    a.drain();
    const sent = a.runAnswering(10_010, 17_000);
    expect(a.state('b')).toBe('suspect');
    // At most the one probe the round-robin order may owe b within seven periods.
    expect(pingsTo(sent.datagrams, 'b').length).toBeLessThanOrEqual(1);
  });

  it('the ACK to a probe that accuses the suspect carries its ALIVE, even for an accusation it refuted before', () => {
    // b refuted incarnation 0 long ago (it is at 1); c and d missed that and probe it within
    // one gossip interval, with a gossip round of b's in between. Each gets b's ALIVE back in
    // the ACK, not only the first: b re-announces its ALIVE for a stale accusation once per
    // gossip interval only, and (retransmitMult 1) one gossip round has already passed that
    // announcement on as often as it goes, so no piggybacking would bring it to d.
    const b = new TestEngine('b', { incarnation: 1n, config: { retransmitMult: 1 } });
    b.tick(0);
    b.learn(['a', 'c', 'd', 'e'], 0);
    b.drain();
    for (const [i, prober] of ['c', 'd'].entries()) {
      const at = 1_000 + 190 * i;
      b.runUntil(at - 190, at - 10);
      b.receive(
        prober,
        [suspect('b', 0n, 'a'), alive(prober), { type: 'ping', seq: 40 + i, source: prober, target: 'b' }],
        at,
      );
      const replies = b.drain().datagrams.filter((d) => d.to === prober);
      expect(replies).toHaveLength(1);
      expect(replies[0]?.messages.slice(0, 2)).toMatchObject([
        { type: 'ack', seq: 40 + i, source: 'b' },
        { type: 'alive', member: { name: 'b', incarnation: 1n } },
      ]);
    }
  });
});

describe('an accusation at a newer incarnation', () => {
  it('restarts the suspicion with its full timeout instead of confirming the old one', () => {
    const a = engine();
    a.receive('c', [suspect('b', 0n, 'c')], 100);
    a.drain();
    const timeouts = engineModule.suspicionTimeouts(4, 6, 2, INTERVAL, 11, 0);
    expect(a.native.suspicionDeadline('b')).toBe(100 + timeouts.maxMs);
    // b refuted (we missed it) and was accused again, at incarnation 1, 20 s later: the old
    // timer has 4 s left, not enough for b to hear of the new accusation and refute.
    a.receive('d', [suspect('b', 1n, 'd')], 20_100);
    expect(a.native.suspicionDeadline('b')).toBe(20_100 + timeouts.maxMs);
    expect(a.native.suspicionConfirmations('b')).toBe(0);
    expect(a.drain().events).toMatchObject([{ kind: 'suspect', name: 'b', incarnation: 1n }]);
  });
});
