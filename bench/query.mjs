// `npm run bench -- query [--members 10000] [--calls 200]` (../shared/BENCHMARKS.md, query)
// The JavaScript boundary. One real cluster joins a stand-in seed (a TCP server here) whose
// SYNC response lists `members` members, so its table holds that many; their probes are pushed
// past the run (probeIntervalMs 10 min) so the table stays still while it is timed.
//   membersCallUs        one members() call, median over --calls (the table unchanged)
//   youngCallUs          the same, in the first round after the table was converted
//   filteredCallUs       one members({ state: 'alive', minCpuAvailable: 2, tags: { role } })
//   changedCallUs        members() right after one member changed (its object is rebuilt)
//   memberCallUs         member(name)
//   coldCallUs           the first members() call, converting every member
//   eventsPerSec         `update` events delivered to a listener while UDP packets of ALIVE
//                        updates for every member arrive as fast as the runtime takes them,
//                        median over --rounds rounds of `members` events
//   eventsPerCpuSec      the same events per second of this thread's CPU time: what the
//                        JavaScript side can take, however loaded the machine is
//   joinEventsPerSec     the `join` events of the initial SYNC, delivered in a burst
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { addon, median, report, root } from './_common.mjs';

const require = createRequire(import.meta.url);
const { Cluster } = require(path.join(root, 'dist', 'index.js'));
const log = (message) => process.stderr.write(`query: ${message}\n`);

function record(i, incarnation) {
  return {
    name: `member-${String(i).padStart(5, '0')}`,
    id: BigInt(i + 1),
    address: `127.1.${(i >> 8) & 255}.${i & 255}`,
    port: 9,
    state: 'alive',
    incarnation,
    resources: {
      maxInstances: 8,
      currentInstances: i % 9,
      cpuTotalMilli: 4000,
      cpuAvailableMilli: (i % 5) * 1000,
      ramTotalMb: 8192,
      ramAvailableMb: (i % 8) * 1024,
    },
    // The incarnation is in the tags so every re-announcement is a metadata change (an event).
    tags: { role: i % 3 === 0 ? 'api' : 'worker', zone: `z${i % 4}`, generation: String(incarnation) },
  };
}

// Packets and frames are sealed as a member of the 'default' cluster sends them (labelled
// with the cluster name): the runtime refuses unlabelled ones as wrong_cluster.
const sealed = (messages) => addon.envelope.seal(addon.codec.encode(messages), null, 'default');

// A TCP seed that answers one SYNC request with a SYNC response listing the given records.
function standInSeed(records) {
  const response = addon.envelope.sealFrame(
    addon.codec.encodeFrame({ type: 'sync_response', join: true, members: records }),
    null,
    'default',
  );
  const server = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) socket.end(response);
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.250', () => resolve(server)));
}

function timeCalls(calls, fn) {
  const samples = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    fn();
    samples.push((performance.now() - t0) * 1000);
  }
  return median(samples);
}

const round = (v) => Math.round(v * 10) / 10;

// CPU time of this (the JavaScript) thread, from /proc: what delivering events costs it,
// whatever else the machine is doing (10 ms resolution).
function mainThreadCpuMs() {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ 100
}

export default async function query(args) {
  const params = { members: args.members ?? 10_000, calls: args.calls ?? 200, rounds: args.rounds ?? 5 };
  const n = params.members;
  const records = Array.from({ length: n }, (_, i) => record(i, 1));
  const seed = await standInSeed(records);
  const cluster = await Cluster.start({
    nodeName: 'observer',
    bind: '127.0.0.251:0',
    probeIntervalMs: 600_000,
    probeTimeoutMs: 500,
    maxRecordBytes: 1024,
  });
  try {
    // The join burst: n join events in as few batches as the runtime makes.
    let joins = 0;
    let firstJoin = 0;
    let lastJoin = 0;
    const allJoined = new Promise((resolve) => {
      cluster.on('join', () => {
        if (joins++ === 0) firstJoin = performance.now();
        lastJoin = performance.now();
        if (joins === n) resolve();
      });
    });
    await cluster.join([`127.0.0.250:${seed.address().port}`]);
    await allJoined;
    const joinEventsPerSec = Math.round(n / ((lastJoin - firstJoin) / 1000 || 1e-3));
    log(`${n} join events delivered in ${(lastJoin - firstJoin).toFixed(1)} ms`);

    const t0 = performance.now();
    const all = cluster.members();
    const coldCallUs = (performance.now() - t0) * 1000;
    if (all.length !== n + 1) throw new Error(`expected ${n + 1} members, got ${all.length}`);

    // A first round lets the new member objects reach V8's old generation; until then every
    // call's garbage makes the young-generation collector copy all of them (the first round
    // after a cold conversion is reported apart).
    const filter = { state: 'alive', minCpuAvailable: 2, tags: { role: 'api' } };
    const youngCallUs = timeCalls(params.calls, () => cluster.members());
    timeCalls(params.calls, () => cluster.members(filter));
    const membersCallUs = timeCalls(params.calls, () => cluster.members());
    const filteredCallUs = timeCalls(params.calls, () => cluster.members(filter));
    const matched = cluster.members(filter).length;
    const memberCallUs = timeCalls(params.calls, () => cluster.member('member-04242'));

    // Updates over UDP: members re-announced at a higher incarnation, eight per packet.
    const udp = dgram.createSocket('udp4');
    await new Promise((resolve) => udp.bind(0, '127.0.0.250', resolve));
    const target = cluster.address;
    // One member first, to time members() after a change.
    let updates = 0;
    let firstUpdate = 0;
    let lastUpdate = 0;
    let onUpdate;
    cluster.on('update', () => {
      if (updates++ === 0) firstUpdate = performance.now();
      lastUpdate = performance.now();
      onUpdate?.();
    });
    const one = sealed([{ type: 'alive', member: record(7, 3) }]);
    await new Promise((resolve) => {
      onUpdate = resolve;
      udp.send(one, target.port, target.host);
    });
    const t1 = performance.now();
    const changed = cluster.members();
    const changedCallUs = (performance.now() - t1) * 1000;
    if (changed.find((m) => m.name === 'member-00007')?.incarnation !== 3) throw new Error('update not visible');

    // Rounds of updates, each re-announcing every member at the next incarnation, sent by a
    // worker thread so that making and sending packets does not compete with delivery on this
    // thread; the rate is the median over rounds of events delivered per second of delivery.
    const sender = new Worker(new URL(import.meta.url), {
      workerData: { members: n, rounds: params.rounds, port: target.port, host: target.host, root },
    });
    await new Promise((resolve) => sender.once('message', resolve)); // packets made
    const rates = [];
    let delivered = 0;
    const cpuBefore = mainThreadCpuMs();
    for (let r = 0; r < params.rounds; r++) {
      updates = 0;
      const allUpdated = new Promise((resolve) => {
        onUpdate = () => {
          if (updates === n) resolve();
        };
      });
      sender.postMessage(r);
      // (The deadline's timer is unref'd: left pending it kept the process alive 30 s.)
      await Promise.race([allUpdated, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      delivered += updates;
      rates.push(updates / ((lastUpdate - firstUpdate) / 1000 || 1e-3));
      log(`round ${r + 1}: ${updates} update events in ${(lastUpdate - firstUpdate).toFixed(1)} ms`);
    }
    const deliveryCpuMs = mainThreadCpuMs() - cpuBefore;
    await sender.terminate();
    const eventsPerSec = Math.round(median(rates));
    udp.close();

    report('query', params, {
      membersCallUs: round(membersCallUs),
      filteredCallUs: round(filteredCallUs),
      filteredMatches: matched,
      changedCallUs: round(changedCallUs),
      memberCallUs: round(memberCallUs),
      coldCallUs: round(coldCallUs),
      youngCallUs: round(youngCallUs),
      eventsPerSec,
      eventsPerCpuSec: Math.round(delivered / (deliveryCpuMs / 1000)),
      eventsDelivered: delivered,
      joinEventsPerSec,
    });
  } finally {
    await cluster.shutdown();
    seed.close();
  }
}

// The sender thread: makes every round's packets first, then sends a round when told.
if (!isMainThread && workerData?.rounds !== undefined) {
  const { members, rounds, port, host } = workerData;
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.252', resolve));
  const perRound = [];
  for (let r = 0; r < rounds; r++) {
    const packets = [];
    for (let i = 0; i < members; i += 8) {
      const messages = [];
      for (let j = i; j < Math.min(members, i + 8); j++) messages.push({ type: 'alive', member: record(j, 4 + r) });
      packets.push(sealed(messages));
    }
    perRound.push(packets);
  }
  parentPort.postMessage('ready');
  parentPort.on('message', async (r) => {
    const packets = perRound[r];
    // Paced so the socket buffer is never the bottleneck being measured: a burst per turn.
    for (let i = 0; i < packets.length; i += 64) {
      for (const p of packets.slice(i, i + 64)) socket.send(p, port, host);
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
}
