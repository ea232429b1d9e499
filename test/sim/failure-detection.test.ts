// Failure detection in the simulator (virtual time): crashes are found, live members are not
// killed, and a member with a broken receive path does not take healthy members down with it.
import { describe, expect, it } from 'vitest';
import { disseminationMs, type SimResult, simulate, suspicionBoundsMs } from './sim-helpers';

const NODES = 50;
const VICTIM = 'n17';

function crashAmongFifty(seed: number): SimResult {
  return simulate({
    seed,
    nodes: NODES,
    actionsFrom: 'converged',
    actions: [{ at: 5_000, kind: 'crash', members: [VICTIM] }],
    stopWhen: 'detected',
    durationMs: 600_000,
  });
}

describe('failure detection', () => {
  for (const seed of [1, 2, 3]) {
    it(`a crash among 50 is suspected within a few protocol periods and seen dead by every live member (seed ${seed})`, () => {
      const { events, metrics, config } = crashAmongFifty(seed);
      const crash = metrics.crashes[0];
      expect(crash).toBeDefined();
      if (!crash) return;
      const { min, max } = suspicionBoundsMs(NODES, config);

      // Every one of the 49 live members marked it dead.
      expect(crash.observers).toBe(NODES - 1);
      expect(crash.detectedBy).toBe(NODES - 1);

      // SWIM §4.1: each of the 49 members probes one member per period in a shuffled round
      // robin, so someone probes the crashed member within about one period and suspects it
      // a period later; five periods leave room for an unlucky order.
      const suspicions = events.filter((e) => e.about === VICTIM && e.state === 'suspect' && e.at >= crash.at);
      const firstSuspicion = Math.min(...suspicions.map((e) => e.at));
      expect(firstSuspicion - crash.at).toBeLessThanOrEqual(5 * config.probeIntervalMs);

      // Lifeguard IV.B: no one is declared dead before the suspicion floor has run out...
      expect(crash.at + (crash.detectFirstMs ?? 0)).toBeGreaterThanOrEqual(firstSuspicion + min);
      // ...and the last live member knows by the suspicion maximum plus dissemination.
      expect(crash.detectAllMs).not.toBeNull();
      expect(crash.at + (crash.detectAllMs ?? Infinity)).toBeLessThanOrEqual(
        firstSuspicion + max + disseminationMs(NODES, config),
      );
      expect(metrics.falsePositives).toBe(0);
    });
  }

  it("every member declares a crash dead by its own suspicion timer, never on another member's DEAD alone", () => {
    // Issue 5: a DEAD from another member only starts (or confirms) our suspicion, so each
    // observer's death verdict comes at least the suspicion floor after its own suspicion
    // began, however early the first member's verdict spread.
    for (const seed of [1, 2, 3]) {
      const { events, metrics, config } = crashAmongFifty(seed);
      const crash = metrics.crashes[0];
      if (!crash) throw new Error('no crash recorded');
      const { min } = suspicionBoundsMs(NODES, config);
      const after = events.filter((e) => e.about === VICTIM && e.at >= crash.at);
      const observers = new Set(after.map((e) => e.member));
      expect(observers.size, `seed ${seed}`).toBe(NODES - 1);
      for (const observer of observers) {
        const own = after.filter((e) => e.member === observer);
        const suspected = own.find((e) => e.kind === 'suspect');
        const dead = own.find((e) => e.kind === 'dead');
        expect(suspected, `seed ${seed}: ${observer} suspected first`).toBeDefined();
        expect(dead, `seed ${seed}: ${observer} declared it dead`).toBeDefined();
        expect((dead?.at ?? 0) - (suspected?.at ?? Infinity), `seed ${seed}: ${observer}`).toBeGreaterThanOrEqual(min);
      }
    }
  });

  it('independent confirmations shorten the suspicion: a crash among 50 is dead everywhere in under half the maximum', () => {
    // Lifeguard IV.B: every member that probes the crashed one and fails is an independent
    // accuser; with k = suspicionConfirmations of them the timeout falls to the floor. In a cluster
    // of 50 a member is probed about once per period, so the k confirmations arrive within a
    // few periods and the crash is dead everywhere near floor + a few periods, far below the
    // maximum (memberlist with these defaults: 9.0 s for the last of 50).
    for (const seed of [1, 2, 3]) {
      const { metrics, config } = crashAmongFifty(seed);
      const { min, max } = suspicionBoundsMs(NODES, config);
      expect(metrics.detectAllMs, `seed ${seed}`).not.toBeNull();
      expect(metrics.detectAllMs ?? Infinity, `seed ${seed}`).toBeLessThan((min + max) / 2);
    }
  });

  for (const loss of [0, 0.05]) {
    it(`no live member is marked dead over an hour among 50 members at ${loss * 100} % loss`, () => {
      const { metrics } = simulate({ seed: 21, nodes: NODES, loss, durationMs: 3_600_000, recordEvents: false });

      expect(metrics.convergeMs).not.toBeNull();
      expect(metrics.endedAt).toBe(3_600_000);
      expect(metrics.falsePositives).toBe(0);
      expect(metrics.runningAtEnd).toBe(NODES);
      expect(metrics.allAliveAtEnd).toBe(true);
      if (loss > 0) expect(metrics.datagramsLost).toBeGreaterThan(0);
      console.info(`an hour at ${loss * 100} % loss: ${metrics.falseSuspicions} false suspicions, 0 false deaths`);
    });
  }

  it('at 20 % loss a member that missed a refutation still hears of it in time: almost no false deaths in two hours among 50', () => {
    // Under heavy loss a member now and then gets an accusation but every copy of the
    // refutation misses it; nobody confirms a false suspicion, so its timer runs to the
    // Lifeguard IV.B maximum. Re-probing an unconfirmed suspect every period (the probe
    // carries the accusation, the ACK the suspect's ALIVE) brings the refutation to exactly
    // those members. Without it these two hours cost 41 false deaths (docs/tuning.md).
    let falseDeaths = 0;
    let falseSuspicions = 0;
    for (const seed of [21, 22]) {
      const { metrics } = simulate({ seed, nodes: NODES, loss: 0.2, durationMs: 3_600_000, recordEvents: false });
      expect(metrics.convergeMs, `seed ${seed}`).not.toBeNull();
      expect(metrics.runningAtEnd, `seed ${seed}`).toBe(NODES);
      falseDeaths += metrics.falsePositives;
      falseSuspicions += metrics.falseSuspicions;
    }
    console.info(`two hours at 20 % loss: ${falseSuspicions} false suspicions, ${falseDeaths} false deaths`);
    // Poisson-sized room over the 0-1 a run of this length has shown, far below the 41.
    expect(falseDeaths).toBeLessThanOrEqual(4);
  });

  it('a member with 80 % ingress loss gets few healthy members suspected, thanks to its health multiplier', () => {
    // The degraded member n7 misses most acks, so it accuses healthy members. Lifeguard IV.A:
    // missed acks and nacks raise its local health score, which stretches its probe interval
    // and timeout up to awarenessMaxMultiplier times, so it accuses far less often than the
    // same member would with the multiplier switched off (awarenessMaxMultiplier 1).
    const run = (awarenessMaxMultiplier?: number) => {
      const { events, metrics } = simulate({
        seed: 5,
        nodes: NODES,
        ...(awarenessMaxMultiplier ? { config: { awarenessMaxMultiplier } } : {}),
        actionsFrom: 'converged',
        actions: [{ at: 5_000, kind: 'ingressLoss', members: ['n7'], value: 0.8 }],
        durationMs: 600_000,
      });
      const from = metrics.actions[0]?.at ?? 0;
      const aboutHealthy = events.filter((e) => e.at >= from && e.about !== 'n7');
      const byHealthy = aboutHealthy.filter((e) => e.member !== 'n7');
      return {
        suspicionEpisodes: byHealthy.filter((e) => e.state === 'suspect').length,
        suspected: new Set(byHealthy.filter((e) => e.state === 'suspect').map((e) => e.about)).size,
        killed: new Set(byHealthy.filter((e) => e.state === 'dead').map((e) => e.about)).size,
        killedInItsOwnView: new Set(
          aboutHealthy.filter((e) => e.member === 'n7' && e.state === 'dead').map((e) => e.about),
        ).size,
      };
    };
    const lifeguard = run();
    const without = run(1);
    console.info(
      `80 % ingress loss on n7 for ~10 min: ${lifeguard.suspected} healthy members suspected ` +
        `(${lifeguard.suspicionEpisodes} suspicion events), ${lifeguard.killed} killed by the healthy members, ` +
        `${lifeguard.killedInItsOwnView} dead in n7's own view; without the health multiplier: ` +
        `${without.suspected} suspected (${without.suspicionEpisodes} events), ${without.killed} killed`,
    );

    // The multiplier stretches probing up to 8x; with it, at most a quarter of the accusations.
    expect(lifeguard.suspicionEpisodes).toBeLessThanOrEqual(without.suspicionEpisodes / 4);
    // Every accusation is refuted by its (healthy, reachable) target within the suspicion
    // timeout, so the healthy members kill at most the odd one whose refutation gossip missed
    // someone — never a sizeable part of the cluster.
    expect(lifeguard.killed).toBeLessThanOrEqual(2);
  });
});
