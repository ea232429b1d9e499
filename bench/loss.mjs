// `npm run bench -- loss [--nodes 50] [--loss 0.05,0.10,0.20] [--soakMs 180000] [--proto udp|all]`
// (../shared/BENCHMARKS.md, loss) Creates a network namespace with loopback up, runs `nodes`
// members inside it (scripts/bench-group.cjs, one process), and for each protocol (udp first,
// then all) and each loss level drops that fraction of incoming packets with an iptables
// `statistic` rule for --soakMs, then removes it. The namespace is deleted at the end.
// One JSON line per level:
//   falseSuspicions, falseDeaths    suspect / dead events during the soak (every member is alive)
//   observersWithFalseSuspicion     members that suspected someone
//   aliveEverywhereAfterMs          from removing the rule until every member sees all alive
//   falseDeathsInRecovery, falseSuspicionsInRecovery   the same counts in that recovery time
//   measuredDropFraction            packets the rule dropped / packets it saw (iptables counters)
//   suspicionsStarted               suspicions members started themselves (each then spreads
//                                   to every observer as a `suspect` event)
// Needs root, `ip` and `iptables`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { report, root } from './_common.mjs';

const group = path.join(root, 'scripts', 'bench-group.cjs');
const log = (message) => process.stderr.write(`loss: ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function list(value, fallback) {
  if (value === undefined) return fallback;
  return String(value)
    .split(',')
    .filter((x) => x !== '')
    .map((x) => (Number.isNaN(Number(x)) ? x : Number(x)));
}

export default async function loss(args) {
  const params = {
    nodes: args.nodes ?? 50,
    loss: list(args.loss, [0.05, 0.1, 0.2]),
    soakMs: args.soakMs ?? 180_000,
    proto: args.proto ? [args.proto] : ['udp', 'all'],
    profile: args.profile ?? 'lan',
  };
  if (process.getuid?.() !== 0) throw new Error('loss needs root (it creates a network namespace)');
  const ns = `cst-loss-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const inNs = (command, argv) => execFileSync('ip', ['netns', 'exec', ns, command, ...argv], { encoding: 'utf8' });
  let child;
  try {
    inNs('ip', ['link', 'set', 'lo', 'up']);
    child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        group,
        JSON.stringify({ nodes: params.nodes, options: { profile: params.profile }, hostBase: '127.0.3.' }),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    let nextId = 1;
    const replies = new Map();
    const ready = new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'fatal') reject(new Error(m.error));
        else if (m.type === 'reply') {
          replies.get(m.id)?.(m);
          replies.delete(m.id);
        }
      });
      child.once('exit', (code) => reject(new Error(`member group exited (${code})`)));
    });
    const request = (cmd) =>
      new Promise((resolve) => {
        const id = nextId++;
        replies.set(id, resolve);
        child.send({ id, cmd });
      });
    const converged = async (timeoutMs) => {
      const started = Date.now();
      while (!(await request('converged')).converged) {
        if (Date.now() - started > timeoutMs) return undefined;
        await sleep(20);
      }
      return Date.now() - started;
    };
    await ready;
    if ((await converged(120_000)) === undefined) throw new Error('the members did not converge');
    log(`${params.nodes} members converged in ${ns}`);

    for (const proto of params.proto) {
      for (const fraction of params.loss) {
        const match = proto === 'udp' ? ['-p', 'udp'] : [];
        // A counting rule (no target) then the dropping rule, so the counters give the fraction.
        inNs('iptables', ['-w', '-A', 'INPUT', ...match]);
        inNs('iptables', [
          '-w',
          '-A',
          'INPUT',
          ...match,
          '-m',
          'statistic',
          '--mode',
          'random',
          '--probability',
          String(fraction),
          '-j',
          'DROP',
        ]);
        await request('mark');
        const before = await request('stats');
        await sleep(params.soakMs);
        const counts = await request('counts');
        const after = await request('stats');
        const rules = inNs('iptables', ['-w', '-L', 'INPUT', '-v', '-x', '-n']).split('\n').slice(2).filter(Boolean);
        const packets = rules.map((line) => Number(line.trim().split(/\s+/)[0]));
        inNs('iptables', ['-w', '-F', 'INPUT']);
        const aliveEverywhereAfterMs = await converged(120_000);
        // Verdicts reached after the loss stopped, while the last suspicions played out.
        const total = await request('counts');
        const fields = {
          proto,
          loss: fraction,
          soakMs: params.soakMs,
          falseSuspicions: counts.falseSuspicions,
          falseDeaths: counts.falseDeaths,
          observersWithFalseSuspicion: counts.observersWithFalseSuspicion,
          aliveEverywhereAfterMs: aliveEverywhereAfterMs ?? null,
          falseSuspicionsInRecovery: total.falseSuspicions - counts.falseSuspicions,
          falseDeathsInRecovery: total.falseDeaths - counts.falseDeaths,
          measuredDropFraction: packets[0] ? Math.round(((packets[1] ?? 0) / packets[0]) * 1000) / 1000 : null,
          tcpPingsRequested: after.tcpPingsRequested - before.tcpPingsRequested,
          probeFailures: after.probeFailures - before.probeFailures,
          suspicionsStarted: after.suspicions - before.suspicions,
        };
        log(JSON.stringify(fields));
        report('loss', { nodes: params.nodes, profile: params.profile }, fields);
        // Let suspicions started just before the rule went away play out before the next level.
        await sleep(5000);
      }
    }
  } finally {
    child?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}
