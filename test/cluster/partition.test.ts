// A network partition made with iptables inside a network namespace this test creates: four
// members in their own processes, two on each side. While cut, each side declares the other
// dead; once the rules are removed the cluster heals by itself (reconnect attempts to dead
// members, DESIGN.md "Anti-entropy"), with no call to join.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST, waitFor } from './helpers';
import { killAll, MemberProcess } from './member-process';
import { Netns, netnsUnavailable } from './netns';

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`partition test skipped: ${unavailable}`);

// Side A: 127.0.0.12-13 (127.0.0.12/31); side B: 127.0.0.14-15 (127.0.0.14/31).
const SIDE_A = '127.0.0.12/31';
const SIDE_B = '127.0.0.14/31';
const CUT = [
  ['-s', SIDE_A, '-d', SIDE_B, '-j', 'DROP'],
  ['-s', SIDE_B, '-d', SIDE_A, '-j', 'DROP'],
];

describe.skipIf(unavailable !== undefined)(
  `a partition (iptables in a network namespace)${unavailable ? ` — skipped: ${unavailable}` : ''}`,
  () => {
    let ns: Netns | undefined;
    let members: MemberProcess[] = [];

    beforeAll(async () => {
      ns = Netns.create('cst-part');
      const seed = await MemberProcess.start('a0', '127.0.0.12:0', FAST, [], { netns: ns.name });
      members = [seed];
      for (const [name, host] of [
        ['a1', '127.0.0.13'],
        ['b0', '127.0.0.14'],
        ['b1', '127.0.0.15'],
      ] as const) {
        members.push(await MemberProcess.start(name, `${host}:0`, FAST, [seed.address], { netns: ns.name }));
      }
    });

    afterAll(async () => {
      await killAll(members);
      ns?.remove();
    });

    const sees = (observer: MemberProcess, names: string[], state: string) =>
      names.every((n) => observer.view.get(n) === state);

    it('splits into two sides that each declare the other dead, then heals by itself', async () => {
      const [a0, a1, b0, b1] = members as [MemberProcess, MemberProcess, MemberProcess, MemberProcess];
      await waitFor('all four see each other alive', () =>
        members.every((m) =>
          sees(
            m,
            members.filter((o) => o !== m).map((o) => o.name),
            'alive',
          ),
        ),
      );

      for (const rule of CUT) ns?.iptables('-A', 'INPUT', ...rule);
      await waitFor(
        'each side marks the other dead',
        () =>
          [a0, a1].every((m) => sees(m, ['b0', 'b1'], 'dead')) && [b0, b1].every((m) => sees(m, ['a0', 'a1'], 'dead')),
      );
      // Within a side nobody was lost.
      expect(sees(a0, ['a1'], 'alive') && sees(a1, ['a0'], 'alive')).toBe(true);
      expect(sees(b0, ['b1'], 'alive') && sees(b1, ['b0'], 'alive')).toBe(true);

      for (const rule of CUT) ns?.iptables('-D', 'INPUT', ...rule);
      expect(ns?.iptables('-S', 'INPUT')).not.toContain('DROP');
      const healedIn = await waitFor('every member sees all four alive again', () =>
        members.every((m) =>
          sees(
            m,
            members.filter((o) => o !== m).map((o) => o.name),
            'alive',
          ),
        ),
      );
      expect(healedIn).toBeLessThan(15_000);
    });
  },
);
