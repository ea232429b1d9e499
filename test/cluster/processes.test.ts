// Members in separate processes (fixtures/member.cjs), so a member can be killed, stopped with
// SIGSTOP, or have its JavaScript event loop blocked while the others watch. What each member
// sees comes from the events it forwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elapse, FAST, waitFor } from './helpers';
import { killAll, MemberProcess } from './member-process';

async function startGroup(count: number, firstHost: number, options: typeof FAST, prefix: string) {
  const members: MemberProcess[] = [];
  try {
    const seed = await MemberProcess.start(`${prefix}0`, `127.0.0.${firstHost}:0`, options);
    members.push(seed);
    members.push(
      ...(await Promise.all(
        Array.from({ length: count - 1 }, (_, i) =>
          MemberProcess.start(`${prefix}${i + 1}`, `127.0.0.${firstHost + i + 1}:0`, options, [seed.address]),
        ),
      )),
    );
    const names = members.map((m) => m.name);
    await waitFor(`${prefix}: every process sees every other alive`, () =>
      members.every((m) => names.every((n) => n === m.name || m.view.get(n) === 'alive')),
    );
    return members;
  } catch (error) {
    await killAll(members);
    throw error;
  }
}

describe('members in separate processes, tightened timings', () => {
  let members: MemberProcess[] = [];

  beforeAll(async () => {
    members = await startGroup(5, 21, FAST, 'p');
  });
  afterAll(() => killAll(members));

  const others = (name: string) => members.filter((m) => m.name !== name && !m.exited);

  it('keeps a member whose event loop is blocked for 10 s unsuspected by everyone', async () => {
    // The headline promise: probes are answered by the native thread, not by JavaScript. With
    // these timings a member that stopped answering would be suspected within about 0.3 s.
    const blocked = members[1] as MemberProcess;
    const started = Date.now();
    const reply = await blocked.request('block', { ms: 10_000 });
    expect(reply.blockedMs).toBe(10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    for (const m of others(blocked.name)) {
      expect(m.reported('suspect', blocked.name), `${m.name} suspected ${blocked.name}`).toBe(false);
      expect(m.view.get(blocked.name)).toBe('alive');
    }
    // Its own view kept flowing through the block: it still sees everyone alive. And it never
    // had to refute a suspicion (a suspected member raises its incarnation to refute): its
    // incarnation is still the one it started with, so nobody suspected it even briefly.
    const view = (await blocked.request('members')).members as { name: string; state: string; incarnation: number }[];
    expect(view.filter((m) => m.state === 'alive')).toHaveLength(members.length);
    expect(view.find((m) => m.name === blocked.name)?.incarnation).toBe(0);
  });

  it('marks a member stopped (SIGSTOP) dead everywhere, and alive again after SIGCONT', async () => {
    // The shortened equivalent of a 30 s stop under the LAN profile: the process stays stopped
    // until every other member has declared it dead (suspicion lasts 0.8-4.8 s here), the
    // furthest a long pause can go, then resumes and must refute its own death.
    const stopped = members[2] as MemberProcess;
    const watchers = others(stopped.name);
    const mark = watchers.map((m) => m.events.length);
    stopped.signal('SIGSTOP');
    await waitFor('everyone declares p2 dead', () => watchers.every((m) => m.view.get(stopped.name) === 'dead'));
    stopped.signal('SIGCONT');
    await waitFor('everyone sees p2 alive again', () => watchers.every((m) => m.view.get(stopped.name) === 'alive'));
    watchers.forEach((m, i) => {
      const types = m.events
        .slice(mark[i])
        .filter((e) => e.name === stopped.name)
        .map((e) => e.type);
      expect(types).toContain('dead');
      expect(types.at(-1)).toBe('alive');
    });
  });

  it('marks a member killed with SIGKILL dead everywhere, and takes it back when it restarts under the same name', async () => {
    const victim = members[3] as MemberProcess;
    const address = victim.address;
    await victim.kill();
    const watchers = others(victim.name);
    await waitFor('everyone marks p3 dead', () => watchers.every((m) => m.view.get(victim.name) === 'dead'));
    // Same name, same address and port, a new process (a new random id).
    const reborn = await MemberProcess.start(victim.name, address, FAST, [(members[0] as MemberProcess).address]);
    members[3] = reborn;
    await waitFor('everyone sees p3 alive again', () => watchers.every((m) => m.view.get(victim.name) === 'alive'));
    await waitFor('the restarted p3 sees everyone alive', () =>
      members.every((m) => m.name === reborn.name || reborn.view.get(m.name) === 'alive'),
    );
  });
});

describe('members in separate processes, LAN profile', () => {
  let members: MemberProcess[] = [];

  beforeAll(async () => {
    members = await startGroup(4, 31, { profile: 'lan' }, 'q');
  });
  afterAll(() => killAll(members));

  it('never declares a member stopped (SIGSTOP) for 3 s dead, and sees it alive after SIGCONT', async () => {
    // LAN suspicion lasts at least 4 s (4 x log10(n)>=1 x 1 s): a 3 s pause may be suspected
    // but must never be buried.
    const stopped = members[1] as MemberProcess;
    const watchers = members.filter((m) => m !== stopped);
    stopped.signal('SIGSTOP');
    await elapse(3000);
    stopped.signal('SIGCONT');
    // Once everyone holds it alive, in its table and in the events it sent (the table is
    // published a moment before the events cross to JavaScript), no suspicion of it is left
    // running anywhere and every verdict reached before has been reported, in order.
    await waitFor('everyone sees q1 alive', async () => {
      const tables = await Promise.all(watchers.map((m) => m.request('members')));
      const inTables = tables.every((t) =>
        (t.members as { name: string; state: string }[]).some((x) => x.name === stopped.name && x.state === 'alive'),
      );
      return inTables && watchers.every((m) => m.view.get(stopped.name) === 'alive');
    });
    for (const m of watchers) expect(m.reported('dead', stopped.name), `${m.name} buried q1`).toBe(false);
  });
});
