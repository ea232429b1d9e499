// `npm run bench -- sim [--nodes N --profile lan|wan|local --loss P --seed S --crashes K
//   --soakMs T --joinSpreadMs T --threads T]`
// One simulated run in virtual time (../shared/BENCHMARKS.md, "sim"): the cluster joins through
// one seed and converges, runs undisturbed for --soakMs (false suspicions and deaths are
// counted, steady-state traffic is measured), then --crashes members crash and the run ends
// once every live member has marked every one of them dead.
import { availableParallelism } from 'node:os';
import { addon, report } from './_common.mjs';

const DEFAULT_SOAK_MS = 600_000;
// A virtual second costs more than members x time: every engine's table and gossip queue grow
// with the cluster too (measured: 0.01 s of wall time per virtual second at 1,000 members in
// steady state, 2.6 s at 10,000 while the queues still drain the join storm). So past 1,000
// members the soak shrinks with members squared, down to 30 s, and 10,000 members finish
// within the 10-minute budget. The shortened length is reported in the output parameters.
const SOAK_BUDGET_MEMBER2_MS = 1000 * 1000 * DEFAULT_SOAK_MS;

export default async function sim(args) {
  const nodes = args.nodes ?? 1000;
  const profile = args.profile ?? 'lan';
  const loss = args.loss ?? 0;
  const seed = args.seed ?? 1;
  const crashes = args.crashes ?? 1;
  // Engine work runs on this many threads; the result does not depend on it (simulator.h).
  const threads = args.threads ?? Math.min(availableParallelism(), 8);
  const requestedSoak = args.soakMs ?? DEFAULT_SOAK_MS;
  const soakMs = Math.min(requestedSoak, Math.max(30_000, Math.floor(SOAK_BUDGET_MEMBER2_MS / (nodes * nodes))));
  // Joins spread over 2 ms per member: one seed answering 10,000 simultaneous full-state SYNCs
  // would hold ~N^2/2 records in flight at once; real fleets do not start in one millisecond.
  const joinSpreadMs = args.joinSpreadMs ?? nodes * 2;

  // Crash victims: distinct members other than the seed n0, chosen from the seed so that a
  // run can be replayed.
  const victims = [];
  let state = (Number(seed) * 2654435761) >>> 0 || 1;
  while (victims.length < Math.min(crashes, nodes - 1)) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const member = 1 + (state % (nodes - 1));
    if (!victims.includes(member)) victims.push(member);
  }

  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const scenario = {
    seed,
    nodes,
    profile,
    loss,
    joinMode: 'seed',
    joinSpreadMs,
    threads,
    actionsFrom: 'converged',
    actions: victims.length > 0 ? [{ at: soakMs, kind: 'crash', members: victims }] : [],
    stopWhen: victims.length > 0 ? 'detected' : 'duration',
    // Budget: joins plus ten minutes to converge, the soak, then ten minutes to detect.
    durationMs: joinSpreadMs + 600_000 + soakMs + 600_000,
    recordEvents: false,
    // Progress on stderr every minute of virtual time: the 10,000-member run takes a while.
    progressEveryMs: 60_000,
    onProgress: ({ at, queueEvents, converged }) => {
      const wall = ((Number(process.hrtime.bigint() - started) / 1e9) | 0).toString();
      process.stderr.write(`  virtual ${at / 1000} s, ${queueEvents} events, converged ${converged}, wall ${wall} s\n`);
    },
  };
  const params = { nodes, profile, loss, seed, crashes: victims.length, soakMs, joinSpreadMs, threads };
  if (soakMs < requestedSoak) params.soakShortenedFrom = requestedSoak;

  process.stderr.write(`sim: ${nodes} members, ${profile}, loss ${loss}, soak ${soakMs} ms ...\n`);
  const { metrics, logHash } = addon.sim.simulate(scenario);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  report('sim', params, {
    convergeMs: metrics.convergeMs,
    detectFirstMs: metrics.detectFirstMs,
    detectMedianMs: metrics.detectMedianMs,
    detectAllMs: metrics.detectAllMs,
    falsePositives: metrics.falsePositives,
    falseSuspicions: metrics.falseSuspicions,
    msgsPerNodePerSec: round(metrics.msgsPerNodePerSec),
    bytesPerNodePerSec: round(metrics.bytesPerNodePerSec),
    bytesPerMember: round(metrics.bytesPerMember),
    wallMs: Math.round(wallMs),
    // CPU time of the run: on a shared machine wallMs also measures the neighbours.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMb: Math.round(peakRssMb),
    // Context for the fields above.
    steadyMs: metrics.steadyMs,
    streamBytesPerNodePerSec: round(metrics.streamBytesPerNodePerSec),
    engineMemoryBytes: metrics.engineMemoryBytes,
    poolMemoryBytes: metrics.poolMemoryBytes,
    undetected: metrics.crashes.map((c) => c.observers - c.detectedBy).reduce((a, b) => a + b, 0),
    virtualMs: metrics.endedAt,
    queueEvents: metrics.queueEvents,
    logHash,
  });
}

function round(value) {
  return Math.round(value * 100) / 100;
}
