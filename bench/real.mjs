// `npm run bench -- real [--nodes 200] [--profile lan] [--durationMs 60000] [--crashes 1]`
// N clusters in this process on 127.0.x.y, real UDP and TCP sockets, joined through one seed
// (../shared/BENCHMARKS.md, real). Measures, in order:
//   convergeMs, convergeCpuS  from the first join until every member sees all N alive, and
//                             the process CPU seconds that took;
//   a soak of durationMs      falsePositives (a live member marked dead by anyone) and
//                             falseSuspicions, CPU and RSS per node, packets and bytes sent per
//                             node per second;
//   crashes                   one member at a time shut down without leaving:
//                             detectFirstSuspectMs, detectAllMs (every live member marks it
//                             dead), medians over --crashes.
// rssKbPerNode is the growth of the process RSS over its size before the first cluster
// started, divided by N (the Node runtime itself is not counted).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { median, report, root } from './_common.mjs';

const require = createRequire(import.meta.url);
const { Cluster } = require(path.join(root, 'dist', 'index.js'));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message) => process.stderr.write(`real: ${message}\n`);

function hostOf(i) {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

function threads() {
  const match = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : undefined;
}

async function until(what, condition, timeoutMs, intervalMs = 20) {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
  return Date.now() - started;
}

export default async function real(args) {
  const params = {
    nodes: args.nodes ?? 200,
    profile: args.profile ?? 'lan',
    durationMs: args.durationMs ?? 60_000,
    crashes: args.crashes ?? 1,
  };
  const extra = args.threading ? { threading: args.threading } : {};
  const n = params.nodes;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const threadsBefore = threads();

  const clusters = [];
  for (let i = 0; i < n; i++) {
    clusters.push(
      await Cluster.start({ nodeName: `n${i}`, bind: `${hostOf(i)}:0`, profile: params.profile, ...extra }),
    );
  }
  const names = new Set(clusters.map((c) => c.local.name));
  // Every suspect/dead event any member reports about a member that is running is false.
  const crashed = new Set();
  let falseSuspicions = 0;
  let falsePositives = 0;
  const firstSuspect = new Map();
  const deadAt = new Map();
  for (const c of clusters) {
    c.on('suspect', (m) => {
      if (!crashed.has(m.name)) falseSuspicions++;
      else if (!firstSuspect.has(m.name)) firstSuspect.set(m.name, Date.now());
    });
    c.on('dead', (m) => {
      if (!crashed.has(m.name)) falsePositives++;
      else deadAt.set(m.name, (deadAt.get(m.name) ?? 0) + 1);
    });
  }

  log(`${n} clusters started; joining through ${clusters[0].address.host}:${clusters[0].address.port}`);
  const seed = `${clusters[0].address.host}:${clusters[0].address.port}`;
  const cpuJoin = process.cpuUsage();
  const joinStarted = Date.now();
  await Promise.all(clusters.slice(1).map((c) => c.join([seed], { retries: 3, retryDelayMs: 200 })));
  await until('every member sees all alive', () => clusters.every((c) => c.stats().alive === n), 120_000, 10);
  const convergeMs = Date.now() - joinStarted;
  const joinCpu = process.cpuUsage(cpuJoin);
  const convergeCpuS = (joinCpu.user + joinCpu.system) / 1e6;
  log(`converged in ${convergeMs} ms (${convergeCpuS.toFixed(2)} CPU-s); soaking ${params.durationMs} ms`);

  // Soak: let the protocol settle for a moment, then measure a steady state.
  await sleep(Math.min(5000, params.durationMs / 10));
  const sent = () =>
    clusters.reduce(
      (sum, c) => {
        const s = c.stats();
        sum.packets += s.packetsOut;
        sum.bytes += s.bytesOut;
        return sum;
      },
      { packets: 0, bytes: 0 },
    );
  const sentBefore = sent();
  const cpuSoak = process.cpuUsage();
  const soakStarted = Date.now();
  await sleep(params.durationMs);
  const soakMs = Date.now() - soakStarted;
  const soakCpu = process.cpuUsage(cpuSoak);
  const sentAfter = sent();
  global.gc?.();
  const rss = process.memoryUsage().rss;
  const threadCount = threads();
  const seconds = soakMs / 1000;
  const soak = {
    falsePositives,
    falseSuspicions,
    cpuPercentPerNode: round((((soakCpu.user + soakCpu.system) / 1e3 / soakMs) * 100) / n, 4),
    rssKbPerNode: Math.round((rss - rssBefore) / 1024 / n),
    rssMbTotal: Math.round(rss / 1024 / 1024),
    threads: threadCount,
    threadsBefore,
    packetsPerNodePerSec: round((sentAfter.packets - sentBefore.packets) / n / seconds, 2),
    bytesPerNodePerSec: Math.round((sentAfter.bytes - sentBefore.bytes) / n / seconds),
  };
  log(`soak: ${JSON.stringify(soak)}`);

  // Crashes: one at a time, shut down without leaving; never the seed.
  const detectAll = [];
  const detectFirst = [];
  for (let k = 0; k < params.crashes; k++) {
    const victim = clusters[1 + ((k * 7919) % (clusters.length - 1))];
    const name = victim.local.name;
    crashed.add(name);
    const t0 = Date.now();
    await victim.shutdown();
    clusters.splice(clusters.indexOf(victim), 1);
    names.delete(name);
    await until(`every member marks ${name} dead`, () => (deadAt.get(name) ?? 0) >= clusters.length, 120_000, 5);
    detectAll.push(Date.now() - t0);
    if (firstSuspect.has(name)) detectFirst.push(firstSuspect.get(name) - t0);
    log(
      `crash ${k + 1}/${params.crashes}: ${name} suspected after ${firstSuspect.get(name) - t0} ms, dead everywhere after ${Date.now() - t0} ms`,
    );
  }

  await Promise.all(clusters.map((c) => c.shutdown()));
  report('real', params, {
    ...extra,
    convergeMs,
    convergeCpuS: round(convergeCpuS, 2),
    ...soak,
    falsePositives,
    falseSuspicions,
    detectFirstSuspectMs: detectFirst.length ? median(detectFirst) : null,
    detectAllMs: detectAll.length ? median(detectAll) : null,
    detectAllMsRuns: detectAll,
  });
}

function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
