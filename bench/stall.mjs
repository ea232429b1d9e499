// `npm run bench -- stall [--nodes 10] [--blockMs 3000,10000,30000] [--stopMs 3000] [--profile lan]`
// (../shared/BENCHMARKS.md, stall) N members, each its own process (test/cluster/fixtures/
// member.cjs). For each --blockMs, one member's JavaScript event loop is blocked in a busy loop
// that long; for each --stopMs, one member's whole process is stopped (SIGSTOP) that long.
// One JSON line per case:
//   suspectedBy, deadBy        how many of the others marked it suspect / dead meanwhile
//   aliveEverywhereAfterMs     from the end of the stall until every other member's table and
//                              events show it alive (0 if it never left `alive` anywhere)
//   incarnationAfter           its incarnation afterwards (raised only to refute a suspicion)
import { fork } from 'node:child_process';
import path from 'node:path';
import { report, root } from './_common.mjs';

const fixture = path.join(root, 'test', 'cluster', 'fixtures', 'member.cjs');
const log = (message) => process.stderr.write(`stall: ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function list(value, fallback) {
  if (value === undefined) return fallback;
  if (value === '' || value === true) return [];
  return String(value)
    .split(',')
    .filter((x) => x !== '')
    .map(Number);
}

class Member {
  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.events = [];
    this.view = new Map();
    this.replies = new Map();
    this.nextId = 1;
    child.on('message', (m) => {
      if (m.type === 'event') {
        this.events.push({ ...m.event, seenAt: Date.now() });
        if (m.event.type !== 'conflict') this.view.set(m.event.name, m.event.state);
      } else if (m.type === 'reply') {
        this.replies.get(m.id)?.(m);
        this.replies.delete(m.id);
      }
    });
  }

  static start(name, bind, options, seeds) {
    const child = fork(fixture, [JSON.stringify({ options: { ...options, nodeName: name, bind }, seeds })], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const member = new Member(name, child);
    return new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.type === 'ready') {
          member.address = m.address;
          resolve(member);
        } else if (m.type === 'fatal') reject(new Error(`${name}: ${m.error}`));
      });
      child.once('exit', (code) => reject(new Error(`${name} exited (${code})`)));
    });
  }

  request(cmd, fields = {}) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.child.send({ id, cmd, ...fields });
    });
  }
}

async function until(what, condition, timeoutMs) {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

export default async function stall(args) {
  const params = {
    nodes: args.nodes ?? 10,
    profile: args.profile ?? 'lan',
    blockMs: list(args.blockMs, [3000, 10000, 30000]),
    stopMs: list(args.stopMs, [3000]),
  };
  const options = { profile: params.profile };
  const members = [await Member.start('s0', '127.0.2.1:0', options, [])];
  members.push(
    ...(await Promise.all(
      Array.from({ length: params.nodes - 1 }, (_, i) =>
        Member.start(`s${i + 1}`, `127.0.2.${i + 2}:0`, options, [members[0].address]),
      ),
    )),
  );
  const names = members.map((m) => m.name);
  try {
    await until(
      'convergence',
      () => members.every((m) => names.every((n) => n === m.name || m.view.get(n) === 'alive')),
      60_000,
    );
    log(`${params.nodes} members converged`);
    const cases = [
      ...params.blockMs.map((ms) => ({ kind: 'block', ms })),
      ...params.stopMs.map((ms) => ({ kind: 'stop', ms })),
    ];
    for (const [k, c] of cases.entries()) {
      const victim = members[1 + (k % (members.length - 1))];
      const others = members.filter((m) => m !== victim);
      const marks = others.map((m) => m.events.length);
      if (c.kind === 'block') {
        await victim.request('block', { ms: c.ms });
      } else {
        victim.child.kill('SIGSTOP');
        await sleep(c.ms);
        victim.child.kill('SIGCONT');
      }
      const resumedAt = Date.now();
      // Alive in every other member's table and in the events each sent.
      await until(
        `${victim.name} alive everywhere`,
        async () => {
          const tables = await Promise.all(others.map((m) => m.request('members')));
          return (
            tables.every((t) => t.members.some((x) => x.name === victim.name && x.state === 'alive')) &&
            others.every((m) => m.view.get(victim.name) === 'alive')
          );
        },
        120_000,
      );
      const about = others.map((m, i) => m.events.slice(marks[i]).filter((e) => e.name === victim.name));
      const left = about.flat().filter((e) => e.type !== 'alive' && e.type !== 'update');
      const backAt = Math.max(
        resumedAt,
        ...about
          .flat()
          .filter((e) => e.type === 'alive')
          .map((e) => e.seenAt),
      );
      const own = (await victim.request('members')).members.find((x) => x.name === victim.name);
      const fields = {
        kind: c.kind === 'block' ? 'event-loop-block' : 'sigstop',
        stallMs: c.ms,
        suspectedBy: about.filter((evs) => evs.some((e) => e.type === 'suspect')).length,
        deadBy: about.filter((evs) => evs.some((e) => e.type === 'dead')).length,
        aliveEverywhereAfterMs: left.length === 0 ? 0 : backAt - resumedAt,
        incarnationAfter: own?.incarnation,
      };
      log(`${victim.name}: ${JSON.stringify(fields)}`);
      report('stall', { nodes: params.nodes, profile: params.profile }, fields);
      await sleep(2000); // let gossip about the case settle before the next one
    }
  } finally {
    for (const m of members) m.child.kill('SIGKILL');
  }
}
