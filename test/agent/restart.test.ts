// Persistence through a crash: an agent killed with kill -9 and started again with only its
// --snapshot (no --join) finds the cluster again through the members it remembered.
import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSnapshot } from '../../src/agent/snapshot';
import { AgentProcess, killAll, waitFor } from './agent-process';

describe('an agent restarted from its snapshot', () => {
  const agents: AgentProcess[] = [];
  afterAll(() => killAll(agents));

  it('rejoins without --join after kill -9, through the members its snapshot remembers, past a torn tail', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'constellation-restart-'));
    const snapshotOf = (name: string) => path.join(dir, `${name}.snapshot`);
    const a = await AgentProcess.start('rs-a', { host: '127.0.0.71', snapshot: snapshotOf('rs-a') });
    agents.push(a);
    const [b, c] = await Promise.all(
      ['rs-b', 'rs-c'].map((name, i) =>
        AgentProcess.start(name, { host: `127.0.0.${72 + i}`, join: [a.address], snapshot: snapshotOf(name) }),
      ),
    );
    agents.push(b as AgentProcess, c as AgentProcess);
    const victim = c as AgentProcess;
    const others = [a, b as AgentProcess];

    // rs-c's file holds both others with their addresses (written in the background: poll it).
    await waitFor('rs-c has written both others to its snapshot', async () => {
      const contents = parseSnapshot(await readFile(snapshotOf('rs-c')));
      return others.every((o) => {
        const m = contents.members.get(o.name);
        return m?.state === 'alive' && `${m.address}:${m.port}` === o.address;
      });
    });
    const oldId = others[0]?.saw('join', 'rs-c')[0]?.member as { id?: string } | undefined;
    expect(oldId?.id).toMatch(/^[0-9a-f]{16}$/);

    await victim.kill('SIGKILL');
    // A crash can tear the record being written: the restart must shrug it off.
    await appendFile(snapshotOf('rs-c'), Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 123, 34]));

    const reborn = await AgentProcess.start('rs-c', {
      host: '127.0.0.73',
      bind: victim.address,
      snapshot: snapshotOf('rs-c'),
    });
    agents.push(reborn);
    await waitFor('the restarted rs-c reports how its join went', () =>
      reborn.lines.some((l) => l.type === 'agent.joined' || l.type === 'agent.join-failed'),
    );
    const joined = reborn.lines.find((l) => l.type === 'agent.joined' || l.type === 'agent.join-failed');
    expect(joined?.type, JSON.stringify(joined)).toBe('agent.joined');
    expect(((joined?.seeds ?? []) as string[]).sort()).toEqual(others.map((o) => o.address).sort());
    expect(joined?.contacted).toBeGreaterThanOrEqual(1);
    expect(reborn.stderr).toContain('snapshot has a torn or corrupt tail');

    await waitFor('the restarted rs-c sees both others alive', () =>
      others.every((o) => reborn.view.get(o.name) === 'alive'),
    );
    await waitFor('both others see rs-c alive as the new process', () =>
      others.every((o) => {
        const last = o.lines.filter((l) => l.member?.name === 'rs-c').at(-1)?.member as { id?: string; state?: string };
        return last?.state === 'alive' && last.id !== oldId?.id;
      }),
    );
    // The snapshot was cut back to its good records and has been appended to since.
    const after = parseSnapshot(await readFile(snapshotOf('rs-c')));
    expect(after.discardedBytes).toBe(0);
    expect(after.self?.name).toBe('rs-c');
  });

  it('never reuses an incarnation: each restart after kill -9 starts above every one used before', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'constellation-incarnation-'));
    const file = path.join(dir, 'in-v.snapshot');
    const seed = await AgentProcess.start('in-seed', { host: '127.0.0.165' });
    agents.push(seed);
    let victim = await AgentProcess.start('in-v', { host: '127.0.0.166', join: [seed.address], snapshot: file });
    agents.push(victim);
    const address = victim.address;
    const used: number[] = [victim.lines.find((l) => l.type === 'agent.ready')?.incarnation as number];
    expect(used[0]).toBe(0);
    for (let life = 1; life <= 2; life++) {
      const current = used.at(-1) as number;
      // The incarnation in use is on disk before the crash (written in the background: poll).
      await waitFor(`in-v's snapshot records incarnation ${current}`, async () => {
        const self = parseSnapshot(await readFile(file)).self;
        return self?.name === 'in-v' && self.incarnation === current;
      });
      await victim.kill('SIGKILL');
      victim = await AgentProcess.start('in-v', { host: '127.0.0.166', bind: address, snapshot: file });
      agents.push(victim);
      const now = victim.lines.find((l) => l.type === 'agent.ready')?.incarnation as number;
      expect(now, `life ${life} starts above ${used.join(', ')}`).toBeGreaterThan(Math.max(...used));
      used.push(now);
      // The cluster takes the new process at its new incarnation.
      await waitFor(`in-seed sees in-v alive at incarnation ${now}`, () => {
        const last = seed.lines.filter((l) => l.member?.name === 'in-v').at(-1)?.member;
        return last?.state === 'alive' && last.incarnation >= now;
      });
    }
    expect(used).toEqual([...used].sort((x, y) => x - y));
  });
});
